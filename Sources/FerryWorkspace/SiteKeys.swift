import Crypto
import Foundation
import FerrySupport

/// A site's Ed25519 key pair (swift-crypto `Curve25519.Signing`).
///
/// Key files hold one line: the standard base64 (with padding) of the 32-byte raw key, then a newline.
/// `keys/site.key` is the private key (mode 0600), `keys/site.pub` and `trusted/<peer>.pub` public keys.
public struct SiteKeys: @unchecked Sendable {
    /// The private signing key.
    public let privateKey: Curve25519.Signing.PrivateKey

    /// The public key that verifies this site's signatures.
    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }

    /// Wraps an existing key.
    public init(privateKey: Curve25519.Signing.PrivateKey) { self.privateKey = privateKey }

    /// A fresh random key pair.
    public static func generate() -> SiteKeys { SiteKeys(privateKey: Curve25519.Signing.PrivateKey()) }

    /// Reads a private key file.
    public static func load(privateKeyPath path: String) throws(WorkspaceError) -> SiteKeys {
        let raw = try readKeyFile(path)
        do {
            return SiteKeys(privateKey: try Curve25519.Signing.PrivateKey(rawRepresentation: raw))
        } catch {
            throw .invalidKey(path: path, reason: "not an Ed25519 private key")
        }
    }

    /// Reads a public key file (`site.pub`, `trusted/<peer>.pub`).
    public static func loadPublicKey(path: String) throws(WorkspaceError) -> Curve25519.Signing.PublicKey {
        let raw = try readKeyFile(path)
        do {
            return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
        } catch {
            throw .invalidKey(path: path, reason: "not an Ed25519 public key")
        }
    }

    /// The key-file text (base64 of the raw key) of a public key, without the newline.
    public static func encode(_ key: Curve25519.Signing.PublicKey) -> String {
        key.rawRepresentation.base64EncodedString()
    }

    /// Decodes the base64 text of a public key (as in site.yaml's `public_key`).
    public static func decodePublicKey(_ text: String) -> Curve25519.Signing.PublicKey? {
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32 else {
            return nil
        }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    /// The public key as base64 text.
    public var publicKeyText: String { Self.encode(publicKey) }

    /// Writes `site.key` (0600) and `site.pub` (0644) atomically.
    public func write(privateKeyPath: String, publicKeyPath: String) throws(WorkspaceError) {
        do {
            try AtomicFile.write(string: privateKey.rawRepresentation.base64EncodedString() + "\n",
                                 to: privateKeyPath, permissions: [.ownerReadWrite])
            try Self.writePublicKey(publicKey, to: publicKeyPath)
        } catch let error as WorkspaceError {
            throw error
        } catch {
            throw .io(path: privateKeyPath, operation: "write the key", reason: "\(error)")
        }
    }

    /// Writes a public key file atomically.
    public static func writePublicKey(_ key: Curve25519.Signing.PublicKey, to path: String) throws(WorkspaceError) {
        do {
            try AtomicFile.write(string: encode(key) + "\n", to: path)
        } catch {
            throw .io(path: path, operation: "write the public key", reason: "\(error)")
        }
    }

    /// Signs `bytes` with the private key (Ed25519, 64-byte signature).
    public func sign<D: DataProtocol>(_ bytes: D) throws -> Data {
        try privateKey.signature(for: bytes)
    }

    private static func readKeyFile(_ path: String) throws(WorkspaceError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidKey(path: path, reason: "cannot read the key file")
        }
        guard data.count <= 4096, let text = String(data: data, encoding: .utf8) else {
            throw .invalidKey(path: path, reason: "not a key file")
        }
        let line = text.split(whereSeparator: \.isNewline).first { !$0.hasPrefix("#") && !$0.isEmpty }
        guard let line, let raw = Data(base64Encoded: String(line).trimmingCharacters(in: .whitespaces)), raw.count == 32 else {
            throw .invalidKey(path: path, reason: "expected one line of base64 holding a 32-byte key")
        }
        return raw
    }
}
