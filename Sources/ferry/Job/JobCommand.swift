import ArgumentParser

/// `ferry job …`: validate, pack, inspect and unpack job folders and archives.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Validate, pack, inspect and unpack jobs; create them from templates.",
        discussion: """
        A job is a folder of YAML files and code (docs/job-format.md); an archive is its reproducible, \
        verifiable single-file form (docs/archives.md); a template renders new job folders (docs/templates.md).

        Examples:
          ferry job validate jobs/hello-fedavg
          ferry job pack jobs/hello-fedavg -o hello.tar.gz
          ferry job inspect hello.tar.gz
          ferry job unpack hello.tar.gz /tmp/hello
          ferry job create runs/a --template fedavg --set rounds=5
        """,
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
