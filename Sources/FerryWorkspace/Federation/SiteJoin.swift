import Foundation
import FerrySupport

/// `ferry site join WORKSPACE SERVER_CARD`: pins the server's key at a client and records where the
/// server's inbox and the federation file are. A client already pinned to another server key accepts a
/// new one only from a card endorsed by the pinned key (`ferry site rotate-key` on the server).
public struct SiteJoin: Sendable {
    /// What the join did.
    public struct Result: Sendable {
        /// The federation joined.
        public var project: String
        /// The server's name.
        public var server: String
        /// The pinned key's fingerprint.
        public var fingerprint: String
        /// The federation as now read from the share, when it could be (nil: not published or not readable).
        public var view: FederationCheck.View?
        /// Why the federation file could not be read, when it could not.
        public var federationProblem: String?
    }

    /// The client's workspace.
    public var workspace: String
    /// The server's card.
    public var card: String

    /// Prepares a join; nothing is read until ``run(now:)``.
    public init(workspace: String, card: String) {
        self.workspace = workspace
        self.card = card
    }

    /// Checks the card and the workspace, then pins the key and reads the federation file.
    public func run(now: Date = Date()) throws(FederationError) -> Result {
        let ws: SiteWorkspace
        do { ws = try SiteWorkspace.open(workspace) } catch {
            throw .workspace(path: workspace, reason: "\(error)", hint: "create the client's workspace with `ferry site init WORKSPACE --name NAME --role client`")
        }
        guard ws.role == .client else {
            throw .workspace(path: ws.directory, reason: "is the server's workspace; only clients join",
                             hint: "add clients on the server with `ferry federation add \(ws.directory) CARD...`")
        }
        let server = try SiteCard.load(path: card)
        guard server.role == .server, let project = server.project, let federationFile = server.federationFile else {
            throw .refusedCard(path: card, reason: "is the card of a \(server.role.rawValue) site, not a server's",
                               hint: "pass the server's card (site-card.yaml in the server's workspace)")
        }
        if let pinned = FederationCheck.serverKey(of: ws), SiteKeys.encode(pinned.key) != server.publicKey {
            guard server.isEndorsed(by: SiteKeys.encode(pinned.key)) else {
                throw .refusedCard(path: card, reason: "this site already pinned server key \(SiteCard.fingerprint(of: SiteKeys.encode(pinned.key))) of federation '\(ws.project)'; the card holds \(server.fingerprint) and is not endorsed by the pinned key",
                                   hint: "a server that rotated its key gives a card from `ferry site rotate-key`; to move this site to another federation, make a new workspace with `ferry site init`")
            }
        }
        if ws.config.share == nil, let relative = [server.inbox, federationFile].first(where: { !$0.hasPrefix("/") }) {
            throw .workspace(path: ws.siteFile, reason: "the server's card records the share-relative path '\(relative)', but this site has no `share:`",
                             hint: "add `share: /mount/point/of/the/share` to \(ws.siteFile)")
        }
        var config = ws.config
        config.project = project
        config.federation = federationFile
        config.peers = [server.name: PeerSite(role: .server, inbox: server.inbox, publicKey: server.publicKey,
                                              encryptionKey: server.encryptionKey)]
        config.updated = Timestamp.string(now)
        do {
            guard let key = SiteKeys.decodePublicKey(server.publicKey) else { throw FederationError.unreadable(path: card, reason: "bad public_key") }
            try SiteKeys.writePublicKey(key, to: FileSystem.join(ws.trustedDirectory, "\(server.name).pub"))
            for file in FileSystem.list(ws.trustedDirectory) where file.hasSuffix(".pub") && file != "\(server.name).pub" && !file.hasPrefix(".") {
                FileSystem.remove(FileSystem.join(ws.trustedDirectory, file))
            }
            try config.write(to: ws.siteFile)
        } catch let error as FederationError {
            throw error
        } catch {
            throw .io(path: ws.directory, operation: "pin the server key", reason: "\(error)")
        }
        var result = Result(project: project, server: server.name, fingerprint: server.fingerprint)
        do {
            let joined = try SiteWorkspace.open(ws.directory)
            result.view = try FederationCheck.refresh(joined)
        } catch let error as FederationError {
            if case .replayed = error { throw error }
            result.federationProblem = "\(error)"
        } catch {
            result.federationProblem = "\(error)"
        }
        return result
    }
}
