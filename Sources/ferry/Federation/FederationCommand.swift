import ArgumentParser
import FerrySupport
import FerryWorkspace

/// `ferry federation …`: the coordinator's commands on the server's workspace.
struct FederationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "federation",
        abstract: "Add and remove sites on the server; show the signed federation file.",
        discussion: """
        The server keeps the federation's members in a signed federation file and publishes it on the \
        share with an increasing serial; clients check it against the server key they pinned (`ferry site \
        join`). Step by step: docs/deployment.md.

        Examples:
          ferry federation add /srv/ferry/server site-1.card.yaml site-2.card.yaml
          ferry federation remove /srv/ferry/server site-2
          ferry federation show /srv/ferry/site-1
        """,
        subcommands: [FederationAddCommand.self, FederationRemoveCommand.self, FederationShowCommand.self]
    )
}

/// Opening a workspace given on the command line: a missing folder is a usage error.
enum WorkspaceArgument {
    static func open(_ path: String) throws -> SiteWorkspace {
        guard FileSystem.isDirectory(path) else { throw ValidationError("'\(path)' does not exist; give a site workspace folder (the one holding site.yaml)") }
        return try SiteWorkspace.open(path)
    }
}
