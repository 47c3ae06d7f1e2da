import ArgumentParser
import FerrySupport
import FerryWorkspace

/// `ferry federation add SERVER_WORKSPACE CARD...`.
struct FederationAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add client sites to the federation from their site cards.",
        discussion: """
        Checks every card first (its signature by the key it holds, its role, that its key was never \
        revoked), then trusts each site's key, records its inbox (relative to the share), and publishes \
        the federation file with the next serial. Compare each printed fingerprint with the site's \
        operator. A card for a member with another key is accepted only when the member's current key \
        endorses it (`ferry site rotate-key`); the old key is then revoked. A running server watcher \
        trusts the new keys and reaches the new inboxes at its next pass, without a restart.

        Example:
          ferry federation add /srv/ferry/server site-1.card.yaml site-2.card.yaml
        """
    )

    @Argument(help: ArgumentHelp("The server's workspace.", valueName: "SERVER_WORKSPACE"))
    var server: String

    @Argument(help: ArgumentHelp("The clients' site cards.", valueName: "CARD"))
    var cards: [String] = []

    func validate() throws {
        guard !cards.isEmpty else { throw ValidationError("give at least one site card to add") }
        for card in cards where !FileSystem.exists(card) {
            throw ValidationError("'\(card)' does not exist; give the site cards (site-card.yaml from each site's workspace)")
        }
    }

    func run() async throws {
        let workspace = try WorkspaceArgument.open(server)
        let (changes, document) = try FederationAdmin(server: workspace).add(cards: cards)
        var table = TextTable(header: ["SITE", "FINGERPRINT", "INBOX", "CHANGE"])
        for change in changes { table.add([change.name, change.card.fingerprint, change.card.inbox, change.change.rawValue]) }
        print(table.lines().joined(separator: "\n"))
        print("federation '\(document.project)' serial \(document.serial): \(document.clientNames.count) client(s): \(document.clientNames.joined(separator: ", "))")
        print("published \(workspace.federationFile ?? workspace.acceptedFederationFile)")
    }
}
