import ArgumentParser
import FerryWorkspace

/// `ferry site …`: a site's own workspace and keys, made on its own host.
struct SiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Make a site's workspace and keys on its own host, join a server, rotate the key.",
        discussion: """
        For a federation of separate organisations: each site makes its own key pair (the private key \
        never leaves its workspace) and hands its public card to the coordinator, who adds it on the \
        server with `ferry federation add`. Step by step: docs/deployment.md.

        Examples:
          ferry site init /srv/ferry/server --name server --role server --share /mnt/fl --project study
          ferry site init /srv/ferry/site-1 --name site-1 --role client --share /mnt/fl
          ferry site join /srv/ferry/site-1 server-card.yaml
          ferry site rotate-key /srv/ferry/site-1
        """,
        subcommands: [SiteInitCommand.self, SiteJoinCommand.self, SiteRotateKeyCommand.self, SiteEncryptionKeyCommand.self]
    )
}

extension SiteRole: ExpressibleByArgument {}

/// The lines every card-writing command prints about the card.
enum CardReport {
    static func print(_ result: SiteSetup.Result, role: SiteRole) {
        Swift.print("fingerprint: \(result.fingerprint)  (read it to the coordinator to check the card)")
        Swift.print("inbox: \(result.inbox)\(result.inbox == result.inboxPath ? "" : " (here \(result.inboxPath))")")
        if let federation = result.federationFile { Swift.print("federation file: \(federation)") }
        Swift.print(role == .server
            ? "next: give this card to every client (`ferry site join`), add their cards with `ferry federation add \(result.workspace) CARD...`"
            : "next: send this card to the coordinator (`ferry federation add`), then `ferry site join \(result.workspace) SERVER_CARD`")
        Swift.print(result.card)
    }
}
