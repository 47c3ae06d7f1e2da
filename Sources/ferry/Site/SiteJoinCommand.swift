import ArgumentParser
import FerrySupport
import FerryWorkspace

/// `ferry site join WORKSPACE SERVER_CARD`: pin the server's key at a client.
struct SiteJoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Pin the server's key at this client and record the federation it runs.",
        discussion: """
        Checks the server's card (its signature by the key it holds), pins that key in \
        WORKSPACE/trusted/, and records the server's inbox and the federation file (both relative to the \
        share). From then on this site verifies every federation file against the pinned key and refuses \
        a changed or older one. Check the printed fingerprint with the server's operator.

        A client already pinned to another server key accepts only a card endorsed by that key (the \
        server's `ferry site rotate-key`). Joining does not make the site a member: the coordinator adds \
        its card with `ferry federation add`.

        Example:
          ferry site join /srv/ferry/site-1 server-card.yaml
        """
    )

    @Argument(help: ArgumentHelp("This client's workspace.", valueName: "WORKSPACE"))
    var workspace: String

    @Argument(help: ArgumentHelp("The server's site card.", valueName: "SERVER_CARD"))
    var card: String

    func validate() throws {
        guard FileSystem.exists(card) else { throw ValidationError("'\(card)' does not exist; give the server's site card (site-card.yaml in the server's workspace)") }
    }

    func run() async throws {
        let result = try SiteJoin(workspace: workspace, card: card).run()
        print("pinned server '\(result.server)' of federation '\(result.project)': \(result.fingerprint)")
        if let view = result.view {
            let document = view.document
            print("federation file \(view.path): serial \(document.serial), clients: \(document.clientNames.joined(separator: ", "))")
            print(view.isMember ? "this site is a member" : view.isRevoked ? "this site's key was revoked: ask the coordinator"
                  : "this site is not a member yet: send its card to the coordinator (`ferry federation add`)")
        } else if let problem = result.federationProblem {
            StandardError.write("warning: the federation file cannot be read yet: \(problem)\n")
        }
        print("next: ferry watch \(workspace)")
    }
}
