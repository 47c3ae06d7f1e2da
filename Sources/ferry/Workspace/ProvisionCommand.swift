import ArgumentParser
import FerrySupport
import FerryWorkspace
import Foundation

/// `ferry provision PROJECT.yaml [-o DIR] [--force-new-keys]`: one workspace per site of a project.
struct ProvisionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Create (or update) one workspace folder per site of a project: identity, keys, trust, inboxes.",
        discussion: """
        Reads a project file (the sites of a federation: one `server` and its clients, and where each \
        site's workspace and inbox live — local folders or folders on a mounted share) and creates each \
        site's workspace: site.yaml (identity and peers), keys/site.key and keys/site.pub (a fresh Ed25519 \
        key pair), trusted/<peer>.pub (the server trusts every client, a client trusts the server), inbox/, \
        jobs/ and logs/. A site without a `workspace:` goes to DIR/<project>/<site>.

        Re-running it is safe: existing keys are always kept, new sites are added, peers are updated, and a \
        key that does not match its workspace is an error. Nothing is written unless every site checks out. \
        --force-new-keys replaces every key pair (restart the watchers afterwards). The files are \
        described in docs/workspaces.md; workspaces/examples/project.yaml is an annotated example.

        Examples:
          ferry provision workspaces/examples/project.yaml
          ferry provision project.yaml -o /mnt/share/ferry
          ferry provision project.yaml --force-new-keys
        """
    )

    @Argument(help: ArgumentHelp("The project file (YAML).", valueName: "PROJECT.yaml"))
    var project: String

    @Option(name: [.short, .customLong("output")],
            help: ArgumentHelp("Where workspaces without a `workspace:` path go, as DIR/<project>/<site>.", valueName: "DIR"))
    var output: String = "workspaces"

    @Flag(name: .customLong("force-new-keys"), help: "Replace every site's key pair (and the trust lists) with new ones.")
    var forceNewKeys = false

    func run() async throws {
        let file = try ProjectFile.load(path: project)
        let sites = try Provisioner(project: file, outputDirectory: output, forceNewKeys: forceNewKeys).run()
        print("provisioned project '\(file.name)': \(sites.count) sites")
        var table = TextTable(header: ["SITE", "ROLE", "KEY", "WORKSPACE", "INBOX"])
        for site in sites {
            let inbox = site.inbox == FileSystem.join(site.workspace, "inbox") ? "inbox/" : site.inbox
            table.add([site.name, site.role.rawValue, site.keyStatus.rawValue, site.workspace, inbox])
        }
        print(table.lines(indent: "  ").joined(separator: "\n"))
        for site in sites where !site.removedTrust.isEmpty {
            print("\(site.name) no longer trusts \(site.removedTrust.joined(separator: ", ")) (not in the project any more)")
        }
        if sites.contains(where: { $0.keyStatus == .replaced }) {
            StandardError.write("warning: keys were replaced; restart every watcher, and resubmit jobs signed with the old server key\n")
        }
        let cwd = FileManager.default.currentDirectoryPath + "/"
        func shown(_ path: String) -> String { path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path }
        print("next:")
        for site in sites { print("  ferry watch \(shown(site.workspace))") }
        if let server = sites.first(where: { $0.role == .server }) {
            print("  ferry submit jobs/hello-fedavg --workspace \(shown(server.workspace))")
        }
    }
}
