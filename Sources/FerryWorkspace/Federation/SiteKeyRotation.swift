import Foundation
import FerrySupport

/// `ferry site rotate-key WORKSPACE`: a new key pair for a site, and a new card endorsed by the old key
/// (so the coordinator's `federation add`, or a client's `site join` for a server card, accepts it
/// without a removal). The old private key is kept as `keys/site.key.previous` until the operator deletes
/// it. A server re-signs its federation file with the new key at the next serial.
public struct SiteKeyRotation: Sendable {
    /// The site's workspace.
    public var workspace: String

    /// Prepares a rotation; nothing is read until ``run(now:)``.
    public init(workspace: String) { self.workspace = workspace }

    /// Replaces the key, writes the endorsed card and (server) re-publishes the federation file.
    public func run(now: Date = Date()) throws(FederationError) -> SiteSetup.Result {
        let ws: SiteWorkspace
        do { ws = try SiteWorkspace.open(workspace) } catch {
            throw .workspace(path: workspace, reason: "\(error)", hint: "pass a site workspace made by `ferry site init`")
        }
        let master = ws.role == .server ? try FederationAdmin(server: ws).current() : nil
        let old = ws.keys
        let new = SiteKeys.generate()
        let sealKey = SiteEncryptionKey.generate()
        let endorsement: String
        do {
            endorsement = try old.sign(SiteCard.rotationMessage(name: ws.name, publicKey: new.publicKeyText)).base64EncodedString()
        } catch {
            throw .io(path: ws.privateKeyPath, operation: "sign with the old key", reason: "\(error)")
        }
        let stamp = Timestamp.string(now)
        let card = SiteCard(name: ws.name, role: ws.role, publicKey: new.publicKeyText, inbox: ws.config.inbox,
                            project: ws.role == .server ? ws.project : nil, federationFile: ws.role == .server ? ws.config.federation : nil,
                            created: stamp, previousKey: old.publicKeyText, endorsement: endorsement,
                            encryptionKey: sealKey.publicKeyText)
        let cardPath = FileSystem.join(ws.directory, SiteSetup.cardFileName)
        var config = ws.config
        config.publicKey = new.publicKeyText
        config.updated = stamp
        do {
            try AtomicFile.write(string: old.privateKey.rawRepresentation.base64EncodedString() + "\n",
                                 to: ws.privateKeyPath + ".previous", permissions: [.ownerReadWrite])
            try new.write(privateKeyPath: ws.privateKeyPath, publicKeyPath: ws.publicKeyPath)
            // The encryption key rotates with the signing key; the old one stays in .previous like the signing key.
            let sealPath = SiteEncryptionKey.privateKeyPath(workspace: ws.directory)
            if let oldSeal = try FileSystem.readIfPresent(sealPath, limit: 4096) {
                try AtomicFile.write(oldSeal, to: sealPath + ".previous", permissions: [.ownerReadWrite])
            }
            try sealKey.write(workspace: ws.directory)
            try config.write(to: ws.siteFile)
        } catch {
            throw .io(path: ws.keysDirectory, operation: "replace the key", reason: "\(error)")
        }
        try card.write(to: cardPath, keys: new)
        var federationPath: String?
        if var document = master {
            document.sites[ws.name]?.publicKey = new.publicKeyText
            document.sites[ws.name]?.encryptionKey = sealKey.publicKeyText
            document.revoked.append(.init(name: ws.name, publicKey: old.publicKeyText, revoked: stamp))
            document.serial += 1
            document.issued = stamp
            let rotated: SiteWorkspace
            do { rotated = try SiteWorkspace.open(ws.directory) } catch {
                throw .workspace(path: ws.directory, reason: "\(error)", hint: "restore keys/site.key from keys/site.key.previous")
            }
            federationPath = try FederationAdmin(server: rotated).publish(document)
        }
        return SiteSetup.Result(workspace: ws.directory, card: cardPath, fingerprint: card.fingerprint, inbox: ws.config.inbox,
                                inboxPath: ws.inboxDirectory, federationFile: federationPath)
    }
}
