import ArgumentParser
import FerrySupport
import FerryWorkspace

/// `ferry site init WORKSPACE --name NAME --role client|server [--share DIR] [--inbox PATH]`.
struct SiteInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create this site's workspace, its Ed25519 key pair and its public site card.",
        discussion: """
        Run it on the site's own host. It writes WORKSPACE/site.yaml, keys/site.key (mode 0600, never \
        copied anywhere), keys/site.pub, the inbox folder, and the public card WORKSPACE/site-card.yaml \
        (name, role, public key, inbox relative to the share), signed with the new key. A server also \
        publishes the first signed federation file on the share. The card's path is the last line of \
        standard output.

        --share is where this host mounts the federation's share; paths on the share are recorded \
        relative to it, so every host may mount it elsewhere. --inbox (default inboxes/NAME on the share, \
        or WORKSPACE/inbox without --share) is relative to the share, or absolute.

        Examples:
          ferry site init /srv/ferry/server --name server --role server --share /mnt/fl --project study
          ferry site init /srv/ferry/site-1 --name site-1 --role client --share /mnt/fl
          card=$(ferry site init ws/site-2 --name site-2 --role client --share /mnt/fl | tail -n 1)
        """
    )

    @Argument(help: ArgumentHelp("The new workspace folder (must not hold a workspace yet).", valueName: "WORKSPACE"))
    var workspace: String

    @Option(help: ArgumentHelp("The site's name (a server is named 'server').", valueName: "NAME"))
    var name: String

    @Option(help: ArgumentHelp("The site's role.", valueName: "client|server"))
    var role: SiteRole

    @Option(help: ArgumentHelp("Where this host mounts the federation's share.", valueName: "DIR"))
    var share: String?

    @Option(help: ArgumentHelp("The site's inbox: relative to the share, or absolute.", valueName: "PATH"))
    var inbox: String?

    @Option(help: ArgumentHelp("Server only: the federation's name (default 'federation').", valueName: "NAME"))
    var project: String?

    func validate() throws {
        if project != nil && role != .server { throw ValidationError("--project is for the server; a client learns it from the server's card") }
    }

    func run() async throws {
        let result = try SiteSetup(workspace: workspace, name: name, role: role, share: share, inbox: inbox, project: project).run()
        print("created \(role.rawValue) site '\(name)' in \(result.workspace)")
        CardReport.print(result, role: role)
    }
}
