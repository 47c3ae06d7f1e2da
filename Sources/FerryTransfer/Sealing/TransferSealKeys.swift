import Crypto
import FerrySupport
import Foundation

/// An X25519 public key a transfer is sealed to (a recipient's HPKE key).
public struct TransferRecipientKey: Sendable, Equatable, Hashable {
    private let raw: [UInt8]

    /// From the 32 raw bytes of an X25519 public key.
    public init(rawRepresentation: [UInt8]) throws(TransferError) {
        guard rawRepresentation.count == 32,
              let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: rawRepresentation) else {
            throw .invalidEncryptionKey(path: "<bytes>", reason: "not a 32-byte X25519 public key")
        }
        raw = Array(key.rawRepresentation)
    }

    /// From base64 (as in manifests and cards) or 64 hex characters.
    public init(text: String) throws(TransferError) {
        let trimmed = text.filter { !$0.isWhitespace }
        if trimmed.utf8.count == 64, let hex = Hex.decode(trimmed) {
            try self.init(rawRepresentation: hex)
        } else if let data = Data(base64Encoded: trimmed), data.count == 32 {
            try self.init(rawRepresentation: Array(data))
        } else {
            throw .invalidEncryptionKey(path: "<text>", reason: "'\(text)' is neither base64 nor hex of 32 bytes")
        }
    }

    /// Reads a key file: 32 raw bytes, 64 hex characters, or base64 of 32 bytes (whitespace ignored).
    public static func load(path: String) throws(TransferError) -> TransferRecipientKey {
        let raw = try KeyFile.read(path, kind: .encryption)
        do { return try TransferRecipientKey(rawRepresentation: raw) } catch {
            throw .invalidEncryptionKey(path: path, reason: "not an X25519 public key")
        }
    }

    /// The 32 raw bytes.
    public var rawRepresentation: [UInt8] { raw }
    /// Base64 of the raw bytes, as recorded in manifests.
    public var base64: String { Data(raw).base64EncodedString() }

    var cryptoKey: Curve25519.KeyAgreement.PublicKey {
        // `raw` was validated on construction.
        (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw))!
    }
}

/// An X25519 private key that opens the transfers sealed to its public half.
public struct TransferDecryptionKey: Sendable {
    // Raw bytes rather than the Crypto key type, which is not Sendable on every platform.
    private let raw: [UInt8]

    /// A new random key.
    public static func generate() -> TransferDecryptionKey {
        // A fresh key's raw bytes are always valid.
        try! TransferDecryptionKey(rawRepresentation: Array(Curve25519.KeyAgreement.PrivateKey().rawRepresentation))
    }

    /// From the 32 raw bytes of an X25519 private key.
    public init(rawRepresentation: [UInt8]) throws(TransferError) {
        guard rawRepresentation.count == 32,
              let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: rawRepresentation) else {
            throw .invalidEncryptionKey(path: "<bytes>", reason: "not a 32-byte X25519 private key")
        }
        raw = Array(key.rawRepresentation)
    }

    /// Reads a key file: 32 raw bytes, 64 hex characters, or base64 of 32 bytes (whitespace ignored).
    public static func load(path: String) throws(TransferError) -> TransferDecryptionKey {
        let raw = try KeyFile.read(path, kind: .encryption)
        do { return try TransferDecryptionKey(rawRepresentation: raw) } catch {
            throw .invalidEncryptionKey(path: path, reason: "not an X25519 private key")
        }
    }

    /// Writes the key as base64 text, readable by its owner only (mode 0600).
    public func save(path: String) throws(TransferError) { try KeyFile.write(raw, to: path) }

    /// The 32 raw bytes.
    public var rawRepresentation: [UInt8] { raw }
    /// The public half, which senders seal to.
    public var publicKey: TransferRecipientKey {
        // A private key's public half is always a valid public key.
        try! TransferRecipientKey(rawRepresentation: Array(cryptoKey.publicKey.rawRepresentation))
    }

    var cryptoKey: Curve25519.KeyAgreement.PrivateKey {
        (try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw))!
    }
}
