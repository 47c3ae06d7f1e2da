import ArgumentParser
import FerrySupport
import FerryWorkspace
import Foundation

/// `ferry federation show WORKSPACE [--json]`.
struct FederationShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Check the federation file as this site sees it, and list members and revoked keys.",
        discussion: """
        On a client, reads the federation file on the share and checks it against the pinned server key \
        and the serial it accepted last (a newer valid file is accepted); on the server, its own copy. \
        Exit status 1 when the file is refused (changed after it was signed, signed by another key, or \
        older than the one accepted).

        Examples:
          ferry federation show /srv/ferry/site-1
          ferry federation show /srv/ferry/server --json
        """
    )

    @Argument(help: ArgumentHelp("A site workspace (server or client).", valueName: "WORKSPACE"))
    var workspace: String

    @Flag(help: "Print the federation as JSON.")
    var json = false

    func run() async throws {
        let ws = try WorkspaceArgument.open(workspace)
        guard let view = try FederationCheck.refresh(ws) else {
            throw FederationError.workspace(path: ws.siteFile, reason: "this site has no federation file (made by `ferry provision`, or not joined yet)",
                                            hint: "join a server with `ferry site join \(ws.directory) SERVER_CARD`")
        }
        let d = view.document
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(d), as: UTF8.self))
            return
        }
        print("federation '\(d.project)' serial \(d.serial), issued \(d.issued), server '\(d.server)'; file \(view.path)")
        var table = TextTable(header: ["SITE", "ROLE", "FINGERPRINT", "INBOX", "ADDED"])
        for name in d.sites.keys.sorted() {
            let m = d.sites[name]!
            table.add([name, m.role.rawValue, SiteCard.fingerprint(of: m.publicKey), m.inbox, m.added])
        }
        print(table.lines(indent: "  ").joined(separator: "\n"))
        print(ws.shareGroupSummary(members: ws.shareGroupMembers(of: d.sites.mapValues(\.inbox))))
        if !d.revoked.isEmpty {
            print("revoked keys:")
            for r in d.revoked { print("  \(r.name) \(SiteCard.fingerprint(of: r.publicKey)) revoked \(r.revoked)") }
        }
        if ws.role == .client {
            print(view.isMember ? "this site ('\(ws.name)') is a member" : view.isRevoked ? "this site's key was revoked" : "this site is not a member yet")
        }
    }
}
