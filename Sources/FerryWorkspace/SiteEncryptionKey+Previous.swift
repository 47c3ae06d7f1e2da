import Crypto
import Foundation
import FerrySupport

extension SiteEncryptionKey {
    /// `keys/encryption.key.previous` of a workspace: the key `ferry site rotate-key` replaced, kept so
    /// that transfers sealed to it before the senders learnt the new key still open.
    public static func previousPrivateKeyPath(workspace: String) -> String { privateKeyPath(workspace: workspace) + ".previous" }

    /// The key the site had before its last rotation, or nil when it has none (never rotated, or the
    /// operator deleted the file once no transfer sealed to the old key could still be in flight).
    public static func loadPrevious(workspace: String) throws(WorkspaceError) -> SiteEncryptionKey? {
        let path = previousPrivateKeyPath(workspace: workspace)
        let read: [UInt8]?
        do { read = try FileSystem.readIfPresent(path, limit: 4096) } catch {
            throw .invalidKey(path: path, reason: "cannot be read (\(error)); fix its permissions, or delete it if no transfer sealed to the site's previous key is still in flight")
        }
        guard let bytes = read else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let raw = Data(base64Encoded: text), raw.count == 32,
              let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) else {
            throw .invalidKey(path: path, reason: "not the base64 of a 32-byte X25519 private key; restore it from a backup, or delete it if no transfer sealed to the site's previous key is still in flight")
        }
        return SiteEncryptionKey(privateKey: key)
    }
}
