import Crypto
import Foundation
import FerrySupport
import Yams

/// Reading the federation file as a site: checked against the pinned server key (the server: its own),
/// and never older than the copy the site accepted last (`federation.yaml` in its workspace), which a
/// newer valid file replaces.
public enum FederationCheck {
    /// A site's view of its federation.
    public struct View: Sendable {
        /// The newest valid federation file.
        public var document: FederationDocument
        /// Where it was read.
        public var path: String
        /// Whether this site is a member with its current key.
        public var isMember: Bool
        /// Whether this site's current key was revoked.
        public var isRevoked: Bool
    }

    /// The server key `workspace` trusts: its own on the server, the pinned one on a client.
    public static func serverKey(of workspace: SiteWorkspace) -> (name: String, key: Curve25519.Signing.PublicKey)? {
        if workspace.role == .server { return (workspace.name, workspace.keys.publicKey) }
        guard let server = workspace.server, let key = workspace.trustedKeys[server.name] else { return nil }
        return (server.name, key)
    }

    /// Reads the federation file on the share (the server: its master copy), checks it and, on a client,
    /// keeps it as the accepted copy when it is newer. Nil for a workspace without a federation file
    /// (made by `ferry provision` and never changed by `ferry federation`, or a client that has not joined).
    public static func refresh(_ workspace: SiteWorkspace) throws(FederationError) -> View? {
        let accepted = workspace.acceptedFederationFile
        if workspace.role == .server {
            // Also a provisioned server managed with `ferry federation add|remove`: its file has no share copy.
            guard FileSystem.exists(accepted) else { return nil }
            let key = workspace.keys.publicKey
            let (document, _) = try FederationDocument.load(path: accepted, serverKey: key, project: workspace.project)
            return view(document, path: accepted, workspace: workspace)
        }
        guard let shared = workspace.federationFile, let (_, key) = serverKey(of: workspace) else { return nil }
        let (document, bytes) = try FederationDocument.load(path: shared, serverKey: key, project: workspace.project)
        // The accepted copy lives in this site's own workspace: its serial is trusted as it is (it may
        // be signed by a server key this site has since replaced through a rotation).
        if let oldBytes = try? FileSystem.readIfPresent(accepted, limit: 1 << 20),
           let old = try? YAMLDecoder().decode(FederationDocument.self, from: String(decoding: oldBytes, as: UTF8.self)) {
            if document.serial < old.serial || (document.serial == old.serial && bytes != oldBytes) {
                throw .replayed(path: shared, serial: document.serial, accepted: old.serial)
            }
            if document.serial == old.serial { return view(document, path: shared, workspace: workspace) }
        }
        do {
            try AtomicFile.write(bytes, to: accepted)
        } catch {
            throw .io(path: accepted, operation: "keep the accepted federation file", reason: "\(error)")
        }
        return view(document, path: shared, workspace: workspace)
    }

    static func view(_ document: FederationDocument, path: String, workspace: SiteWorkspace) -> View {
        let own = workspace.keys.publicKeyText
        return View(document: document, path: path, isMember: document.sites[workspace.name]?.publicKey == own,
                    isRevoked: document.isRevoked(key: own))
    }
}
