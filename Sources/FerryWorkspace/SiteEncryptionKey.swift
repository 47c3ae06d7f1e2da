import Crypto
import Foundation
import FerrySupport

/// A site's X25519 key pair (swift-crypto `Curve25519.KeyAgreement`), beside its Ed25519 signing key:
/// transfers to the site are sealed to its public half (HPKE, docs/transfer-protocol.md section 13).
///
/// Files, one line of base64 (with padding) of the 32 raw bytes each: `keys/encryption.key` (mode
/// 0600) and `keys/encryption.pub`. Made by provisioning and `ferry site init`; a workspace made
/// before sealed transfers gets one with `ferry site encryption-key WORKSPACE` (or the next provision).
public struct SiteEncryptionKey: @unchecked Sendable {
    /// The private key.
    public let privateKey: Curve25519.KeyAgreement.PrivateKey

    /// A fresh random key.
    public static func generate() -> SiteEncryptionKey { SiteEncryptionKey(privateKey: .init()) }

    /// Wraps an existing key.
    public init(privateKey: Curve25519.KeyAgreement.PrivateKey) { self.privateKey = privateKey }

    /// The public key as base64 text (cards, site.yaml, the federation file).
    public var publicKeyText: String { privateKey.publicKey.rawRepresentation.base64EncodedString() }

    /// `keys/encryption.key` of a workspace.
    public static func privateKeyPath(workspace: String) -> String { FileSystem.join(workspace, "keys/encryption.key") }
    /// `keys/encryption.pub` of a workspace.
    public static func publicKeyPath(workspace: String) -> String { FileSystem.join(workspace, "keys/encryption.pub") }

    /// Reads the workspace's private key; a missing file says what to run.
    public static func load(workspace: String) throws(WorkspaceError) -> SiteEncryptionKey {
        let path = privateKeyPath(workspace: workspace)
        guard let bytes = try? FileSystem.readIfPresent(path, limit: 4096) else {
            throw .invalidKey(path: path, reason: "the site has no encryption key (made before sealed transfers); run `ferry site encryption-key \(workspace)` and send the new card to the coordinator")
        }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let raw = Data(base64Encoded: text), raw.count == 32,
              let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) else {
            throw .invalidKey(path: path, reason: "not the base64 of a 32-byte X25519 private key")
        }
        return SiteEncryptionKey(privateKey: key)
    }

    /// Reads the workspace's public key text, or nil when the site has none yet.
    public static func publicKeyText(workspace: String) -> String? {
        guard let bytes = try? FileSystem.readIfPresent(publicKeyPath(workspace: workspace), limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return isValidPublicKey(text) ? text : nil
    }

    /// Whether `text` is the base64 of a 32-byte X25519 public key.
    public static func isValidPublicKey(_ text: String) -> Bool {
        guard let raw = Data(base64Encoded: text), raw.count == 32 else { return false }
        return (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw)) != nil
    }

    /// Writes `keys/encryption.key` (0600) and `keys/encryption.pub` (0644) atomically.
    public func write(workspace: String) throws(WorkspaceError) {
        let path = Self.privateKeyPath(workspace: workspace)
        do {
            try AtomicFile.write(string: privateKey.rawRepresentation.base64EncodedString() + "\n", to: path,
                                 permissions: [.ownerReadWrite])
            try AtomicFile.write(string: publicKeyText + "\n", to: Self.publicKeyPath(workspace: workspace))
        } catch {
            throw .io(path: path, operation: "write the encryption key", reason: "\(error)")
        }
    }

    /// The workspace's key, made and written first when it has none. Returns the key and whether it is new.
    public static func ensure(workspace: String) throws(WorkspaceError) -> (key: SiteEncryptionKey, created: Bool) {
        if FileManager.default.fileExists(atPath: privateKeyPath(workspace: workspace)) {
            return (try load(workspace: workspace), false)
        }
        let key = generate()
        try key.write(workspace: workspace)
        return (key, true)
    }
}
