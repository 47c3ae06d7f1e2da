import ArgumentParser

/// `ferry job …`: validate, pack, inspect and unpack job folders and archives.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Validate, pack, inspect and unpack jobs; create them from templates.",
        subcommands: [
            JobValidateCommand.self,
            JobPackCommand.self,
            JobInspectCommand.self,
            JobUnpackCommand.self,
            JobTemplatesCommand.self,
            JobCreateCommand.self,
        ]
    )
}
