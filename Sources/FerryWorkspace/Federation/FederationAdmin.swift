import Foundation
import FerrySupport

/// `ferry federation add|remove` on the server's workspace. The server's `federation.yaml` is the
/// record of who is a member; `site.yaml`'s peers and `trusted/*.pub` are rewritten from it on every
/// change, then the file is signed with the next serial and published on the share.
public struct FederationAdmin: Sendable {
    /// What happened to one card.
    public enum Change: String, Sendable {
        case added, unchanged
        case inboxChanged = "inbox changed"
        case keyReplaced = "key replaced"
    }

    /// The server's workspace.
    public let server: SiteWorkspace

    /// Fails unless `server` is a server workspace.
    public init(server: SiteWorkspace) throws(FederationError) {
        guard server.role == .server else {
            throw .workspace(path: server.directory, reason: "is a \(server.role.rawValue) workspace; federation changes are made on the server's",
                             hint: "pass the server's workspace folder (the one `ferry site init --role server` made)")
        }
        self.server = server
    }

    /// The current federation: the server's master file, or (for a workspace made by `ferry provision`)
    /// one built from its site.yaml at serial 0.
    public func current() throws(FederationError) -> FederationDocument {
        let path = server.acceptedFederationFile
        if FileSystem.exists(path) {
            return try FederationDocument.load(path: path, serverKey: server.keys.publicKey).document
        }
        var sites: [String: FederationDocument.Member] = [
            server.name: .init(role: .server, publicKey: server.keys.publicKeyText, inbox: server.config.inbox, added: server.config.created,
                               encryptionKey: SiteEncryptionKey.publicKeyText(workspace: server.directory)),
        ]
        for (name, peer) in server.config.peers {
            sites[name] = .init(role: peer.role, publicKey: peer.publicKey, inbox: peer.inbox, added: server.config.updated,
                                encryptionKey: peer.encryptionKey)
        }
        return FederationDocument(project: server.project, serial: 0, issued: server.config.updated, server: server.name,
                                  sites: sites, revoked: [])
    }

    /// Adds the sites of `cards` (all checked before anything is written) and publishes the federation.
    public func add(cards paths: [String], now: Date = Date()) throws(FederationError) -> (changes: [(name: String, card: SiteCard, change: Change)], document: FederationDocument) {
        var document = try current()
        var changes: [(name: String, card: SiteCard, change: Change)] = []
        let stamp = Timestamp.string(now)
        for path in paths {
            let card = try SiteCard.load(path: path)
            guard card.role == .client else {
                throw .refusedCard(path: path, reason: "is the card of a \(card.role.rawValue) site; only client sites are added",
                                   hint: "clients join a server with `ferry site join CLIENT_WORKSPACE SERVER_CARD`")
            }
            guard card.name != server.name else {
                throw .refusedCard(path: path, reason: "names the server itself", hint: "pass the clients' cards")
            }
            if document.isRevoked(key: card.publicKey) {
                throw .refusedCard(path: path, reason: "site '\(card.name)': this key was revoked (`ferry federation remove`); a revoked key never comes back",
                                   hint: "the site makes a new key with `ferry site rotate-key WORKSPACE` and sends the new card")
            }
            if changes.contains(where: { $0.name == card.name }) {
                throw .refusedCard(path: path, reason: "site '\(card.name)' is named by two cards", hint: "pass each site's card once")
            }
            let change: Change
            let existing = document.sites[card.name]
            if let existing {
                if existing.publicKey == card.publicKey {
                    // A new encryption key on a card signed by the member's own key counts as an update too.
                    change = existing.inbox == card.inbox && existing.encryptionKey == card.encryptionKey ? .unchanged : .inboxChanged
                } else if card.isEndorsed(by: existing.publicKey) {
                    change = .keyReplaced
                } else {
                    throw .refusedCard(path: path, reason: "site '\(card.name)' is already a member with another key (\(SiteCard.fingerprint(of: existing.publicKey)); the card has \(card.fingerprint)), and the card is not endorsed by that key",
                                       hint: "a rotated key's card comes from `ferry site rotate-key`; if the site lost its key, `ferry federation remove` it first, then add the new card")
                }
            } else {
                change = .added
            }
            if change != .unchanged {
                document.sites[card.name] = .init(role: .client, publicKey: card.publicKey, inbox: card.inbox,
                                                  added: change == .inboxChanged ? existing!.added : stamp,
                                                  encryptionKey: card.encryptionKey)
                if change == .keyReplaced, let existing {
                    document.revoked.append(.init(name: card.name, publicKey: existing.publicKey, revoked: stamp))
                }
            }
            changes.append((card.name, card, change))
        }
        document = try commit(document, now: now)
        return (changes, document)
    }

    /// Revokes the member `name` and publishes the federation.
    public func remove(name: String, now: Date = Date()) throws(FederationError) -> FederationDocument {
        var document = try current()
        guard let member = document.sites[name], member.role == .client else {
            if name == server.name {
                throw .workspace(path: server.directory, reason: "the server cannot remove itself",
                                 hint: "to end the federation stop the watchers; to replace the server key use `ferry site rotate-key`")
            }
            throw .notAMember(name: name, project: document.project, members: document.clientNames)
        }
        document.sites.removeValue(forKey: name)
        document.revoked.append(.init(name: name, publicKey: member.publicKey, revoked: Timestamp.string(now)))
        return try commit(document, now: now)
    }

    /// Rewrites site.yaml and trusted/ from `document`, signs it with the next serial, and writes the
    /// master copy and the copy on the share.
    private func commit(_ document: FederationDocument, now: Date) throws(FederationError) -> FederationDocument {
        var next = document
        next.serial += 1
        next.issued = Timestamp.string(now)
        var config = server.config
        config.peers = [:]
        for (name, member) in next.sites where name != server.name {
            config.peers[name] = PeerSite(role: member.role, inbox: member.inbox, publicKey: member.publicKey,
                                          encryptionKey: member.encryptionKey)
        }
        config.updated = next.issued
        do {
            for (name, peer) in config.peers {
                guard let key = SiteKeys.decodePublicKey(peer.publicKey) else { continue }
                try SiteKeys.writePublicKey(key, to: FileSystem.join(server.trustedDirectory, "\(name).pub"))
            }
            for file in FileSystem.list(server.trustedDirectory) where file.hasSuffix(".pub") && !file.hasPrefix(".") {
                if config.peers[String(file.dropLast(4))] == nil { FileSystem.remove(FileSystem.join(server.trustedDirectory, file)) }
            }
            try config.write(to: server.siteFile)
        } catch {
            throw .io(path: server.directory, operation: "update site.yaml and trusted/", reason: "\(error)")
        }
        _ = try publish(next)
        return next
    }

    /// Writes `document`, signed, as the master copy and on the share; returns the shared copy's path.
    @discardableResult
    public func publish(_ document: FederationDocument) throws(FederationError) -> String {
        try document.write(to: server.acceptedFederationFile, keys: server.keys)
        let shared = server.federationFile ?? server.acceptedFederationFile
        if shared != server.acceptedFederationFile {
            do {
                try FileSystem.makeDirectory(URL(fileURLWithPath: shared).deletingLastPathComponent().path)
            } catch {
                throw .io(path: shared, operation: "create the folder of the federation file", reason: "\(error)")
            }
            try document.write(to: shared, keys: server.keys)
        }
        return shared
    }
}
