import Foundation
import FerrySupport

/// `ferry site encryption-key WORKSPACE`: gives a site made before sealed transfers its X25519 key
/// (`keys/encryption.key`) and re-signs its card with the key's public half (`encryption_key:`). A
/// server also publishes its federation file with its own encryption key at the next serial. Running
/// it again keeps the existing key and only rewrites the card.
public struct SiteEncryptionKeySetup: Sendable {
    /// The site's workspace.
    public var workspace: String

    /// Prepares the setup; nothing is read until ``run(now:)``.
    public init(workspace: String) { self.workspace = workspace }

    /// Makes the key when missing, rewrites the card and (server) the federation file.
    /// - Returns: the setup result (card, fingerprint…) and whether the key is new.
    public func run(now: Date = Date()) throws(FederationError) -> (result: SiteSetup.Result, created: Bool) {
        let ws: SiteWorkspace
        do { ws = try SiteWorkspace.open(workspace) } catch {
            throw .workspace(path: workspace, reason: "\(error)", hint: "pass a site workspace made by `ferry site init` or `ferry provision`")
        }
        let (key, created): (SiteEncryptionKey, Bool)
        do { (key, created) = try SiteEncryptionKey.ensure(workspace: ws.directory) } catch {
            throw .io(path: ws.keysDirectory, operation: "make the encryption key", reason: "\(error)")
        }
        let cardPath = FileSystem.join(ws.directory, SiteSetup.cardFileName)
        var card = (try? SiteCard.load(path: cardPath))
            ?? SiteCard(name: ws.name, role: ws.role, publicKey: ws.keys.publicKeyText, inbox: ws.config.inbox,
                        project: ws.role == .server ? ws.project : nil,
                        federationFile: ws.role == .server ? ws.config.federation : nil, created: Timestamp.string(now))
        card.encryptionKey = key.publicKeyText
        try card.write(to: cardPath, keys: ws.keys)
        var federationPath: String?
        if ws.role == .server, ws.config.federation != nil || FileSystem.exists(ws.acceptedFederationFile) {
            let admin = try FederationAdmin(server: ws)
            var document = try admin.current()
            if document.sites[ws.name]?.encryptionKey != key.publicKeyText {
                document.sites[ws.name]?.encryptionKey = key.publicKeyText
                document.serial += 1
                document.issued = Timestamp.string(now)
                federationPath = try admin.publish(document)
            }
        }
        return (SiteSetup.Result(workspace: ws.directory, card: cardPath, fingerprint: card.fingerprint, inbox: ws.config.inbox,
                                 inboxPath: ws.inboxDirectory, federationFile: federationPath), created)
    }
}
