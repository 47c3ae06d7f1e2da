import ArgumentParser
import FerrySupport
import FerryTransfer
import FerryWorkspace
import Foundation

/// Resolves `--to` and `--key` of the transfer commands to X25519 keys.
enum TransferKeyArguments {
    /// `--to`: a site card (its `encryption_key`), a site workspace (`keys/encryption.pub`), a public
    /// key file (raw, hex or base64 of 32 bytes), or the key itself in base64 or hex.
    static func recipient(_ text: String) throws -> TransferRecipientKey {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                guard let key = SiteEncryptionKey.publicKeyText(workspace: text) else {
                    throw TransferKeyProblem("--to \(text): the workspace has no encryption key (keys/encryption.pub); run `ferry site encryption-key \(text)`")
                }
                return try TransferRecipientKey(text: key)
            }
            if let head = try? FileSystem.readIfPresent(text, limit: 1 << 16),
               String(decoding: head, as: UTF8.self).contains("format: \(SiteCard.format)") {
                let card = try SiteCard.load(path: text)
                guard let key = card.encryptionKey else {
                    throw TransferKeyProblem("--to \(text): the card of site '\(card.name)' has no encryption_key (made before sealed transfers); ask the site to run `ferry site encryption-key` and send its new card")
                }
                return try TransferRecipientKey(text: key)
            }
            return try TransferRecipientKey.load(path: text)
        }
        do { return try TransferRecipientKey(text: text) } catch {
            throw ValidationError("--to \(text): neither a card, a workspace, a key file nor a base64/hex X25519 public key")
        }
    }

    /// `--key`: a site workspace (`keys/encryption.key`) or a private key file.
    /// A workspace's key from before its last rotation (`keys/encryption.key.previous`), if it has one.
    static func previousDecryptionKey(_ path: String) throws -> TransferDecryptionKey? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
              let key = try SiteEncryptionKey.loadPrevious(workspace: path) else { return nil }
        return try TransferDecryptionKey(rawRepresentation: Array(key.privateKey.rawRepresentation))
    }

    /// `--key`: a site workspace (`keys/encryption.key`) or a private key file.
    static func decryptionKey(_ path: String) throws -> TransferDecryptionKey {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let key = try SiteEncryptionKey.load(workspace: path)
            return try TransferDecryptionKey(rawRepresentation: Array(key.privateKey.rawRepresentation))
        }
        return try TransferDecryptionKey.load(path: path)
    }
}

/// A `--to` or `--key` that names a site without the key it needs: says what to run.
struct TransferKeyProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
