import ArgumentParser

/// `ferry job …`: validate, pack, inspect and unpack job folders and archives.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Validate, pack, inspect and unpack jobs.",
        subcommands: [
            JobValidateCommand.self,
            JobTemplatesCommand.self,
            JobCreateCommand.self,
        ]
    )
}
