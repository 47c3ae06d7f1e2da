import ArgumentParser
import FerryWorkspace

/// `ferry site rotate-key WORKSPACE`: a new key pair and a card endorsed by the old key.
struct SiteRotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Replace this site's key pair; the new card is endorsed by the old key.",
        discussion: """
        Stop the site's watcher first. Writes a new keys/site.key (the old one stays as \
        keys/site.key.previous until you delete it) and a new site-card.yaml that carries the old key \
        and its signature of the new one. A client sends the new card to the coordinator, who runs \
        `ferry federation add` with it (the old key is then revoked; the server's watcher trusts the new \
        key at its next pass). A \
        server re-signs its federation file with the new key; each client runs `ferry site join` with the \
        server's new card. Procedure: docs/deployment.md, "Rotating a key".

        Example:
          ferry site rotate-key /srv/ferry/site-1
        """
    )

    @Argument(help: ArgumentHelp("The site's workspace.", valueName: "WORKSPACE"))
    var workspace: String

    func run() async throws {
        let result = try SiteKeyRotation(workspace: workspace).run()
        let role = try SiteWorkspace.open(result.workspace).role
        print("new key for the site in \(result.workspace); the old private key is keys/site.key.previous")
        CardReport.print(result, role: role)
    }
}
