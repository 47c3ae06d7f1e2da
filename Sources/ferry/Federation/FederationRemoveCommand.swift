import ArgumentParser
import FerryWorkspace

/// `ferry federation remove SERVER_WORKSPACE NAME`.
struct FederationRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Revoke a site: its messages are refused and no job waits for it any more.",
        discussion: """
        Removes the site from the federation and revokes its key (a revoked key is never accepted \
        again), and publishes the federation file with the next serial. The server's running watcher \
        picks it up at its next pass: the site's deployment answers, results and transfers are refused, \
        its running jobs stop waiting for it (a round goes on with the remaining clients if min_clients \
        allows, else the job fails saying why), and new jobs are not deployed to it. The removed client \
        reads the federation file too and stops taking work.

        Example:
          ferry federation remove /srv/ferry/server site-2
        """
    )

    @Argument(help: ArgumentHelp("The server's workspace.", valueName: "SERVER_WORKSPACE"))
    var server: String

    @Argument(help: ArgumentHelp("The site to remove.", valueName: "NAME"))
    var name: String

    func run() async throws {
        let workspace = try WorkspaceArgument.open(server)
        let document = try FederationAdmin(server: workspace).remove(name: name)
        print("removed '\(name)' from federation '\(document.project)' (serial \(document.serial)); its key is revoked")
        print("clients: \(document.clientNames.isEmpty ? "none" : document.clientNames.joined(separator: ", "))")
        print("published \(workspace.federationFile ?? workspace.acceptedFederationFile)")
    }
}
