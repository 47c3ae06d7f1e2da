import ArgumentParser
import FerryWorkspace

/// `ferry site encryption-key WORKSPACE`: the X25519 key of a site made before sealed transfers.
struct SiteEncryptionKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encryption-key",
        abstract: "Give a site made before sealed transfers its encryption key, and re-sign its card.",
        discussion: """
        Writes keys/encryption.key (X25519, mode 0600) and keys/encryption.pub when missing (an existing \
        key is kept) and rewrites site-card.yaml with its public half (encryption_key). A client sends \
        the new card to the coordinator, who runs `ferry federation add` with it; a server also \
        publishes its federation file at the next serial, and each client runs `ferry site join` with \
        the server's new card. Transfers to a site are sealed to this key (docs/transfer-protocol.md).

        Example:
          ferry site encryption-key /srv/ferry/site-1
        """
    )

    @Argument(help: ArgumentHelp("The site's workspace.", valueName: "WORKSPACE"))
    var workspace: String

    func run() async throws {
        let (result, created) = try SiteEncryptionKeySetup(workspace: workspace).run()
        let role = try SiteWorkspace.open(result.workspace).role
        print(created ? "new encryption key in \(result.workspace)/keys/encryption.key"
                      : "kept the encryption key in \(result.workspace)/keys/encryption.key")
        CardReport.print(result, role: role)
    }
}
