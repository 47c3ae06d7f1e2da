import FerrySupport
import Crypto
import Foundation

/// An Ed25519 private key that signs transfers (the final record covers the manifest digest).
public struct TransferSigningKey: Sendable {
    // Raw bytes rather than the Crypto key type, which is not Sendable on every platform.
    private let raw: [UInt8]
    private var key: Curve25519.Signing.PrivateKey {
        // `raw` was validated on construction.
        (try? Curve25519.Signing.PrivateKey(rawRepresentation: raw))!
    }

    /// A new random key.
    public static func generate() -> TransferSigningKey { TransferSigningKey(key: .init()) }

    /// From the 32 raw bytes of the private key.
    public init(rawRepresentation: [UInt8]) throws(TransferError) {
        do { raw = Array(try Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation).rawRepresentation) } catch {
            throw .invalidKey(path: "<bytes>", reason: "not a 32-byte Ed25519 private key")
        }
    }

    init(key: Curve25519.Signing.PrivateKey) { raw = Array(key.rawRepresentation) }

    /// Reads a key file: 32 raw bytes, 64 hex characters, or base64 of 32 bytes (whitespace ignored).
    public static func load(path: String) throws(TransferError) -> TransferSigningKey {
        let raw = try KeyFile.read(path)
        do { return TransferSigningKey(key: try .init(rawRepresentation: raw)) } catch {
            throw .invalidKey(path: path, reason: "not an Ed25519 private key")
        }
    }

    /// The 32 raw bytes.
    public var rawRepresentation: [UInt8] { raw }
    /// The matching public key.
    public var publicKey: TransferPublicKey { TransferPublicKey(key: key.publicKey) }

    func sign(_ message: [UInt8]) throws -> [UInt8] { Array(try key.signature(for: message)) }
}

/// An Ed25519 public key a receiver trusts.
public struct TransferPublicKey: Sendable, Equatable {
    private let raw: [UInt8]
    private var key: Curve25519.Signing.PublicKey {
        (try? Curve25519.Signing.PublicKey(rawRepresentation: raw))!
    }

    init(key: Curve25519.Signing.PublicKey) { raw = Array(key.rawRepresentation) }

    /// From the 32 raw bytes of the public key.
    public init(rawRepresentation: [UInt8]) throws(TransferError) {
        do { raw = Array(try Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation).rawRepresentation) } catch {
            throw .invalidKey(path: "<bytes>", reason: "not a 32-byte Ed25519 public key")
        }
    }

    /// Reads a key file: 32 raw bytes, 64 hex characters, or base64 of 32 bytes (whitespace ignored).
    public static func load(path: String) throws(TransferError) -> TransferPublicKey {
        let raw = try KeyFile.read(path)
        do { return TransferPublicKey(key: try .init(rawRepresentation: raw)) } catch {
            throw .invalidKey(path: path, reason: "not an Ed25519 public key")
        }
    }

    /// The 32 raw bytes.
    public var rawRepresentation: [UInt8] { raw }
    /// Base64 of the raw bytes, as recorded in manifests.
    public var base64: String { Data(raw).base64EncodedString() }

    func verify(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        key.isValidSignature(signature, for: message)
    }

    /// Whether `signature` (base64, as in records) is a valid signature of `message` by the key whose
    /// base64 is `keyText` (a manifest's `signerPublicKey`); false when either does not decode.
    static func verify(signature: String?, by keyText: String, for message: [UInt8]) -> Bool {
        guard let signature, let sig = Data(base64Encoded: signature), let keyData = Data(base64Encoded: keyText),
              let key = try? TransferPublicKey(rawRepresentation: Array(keyData)) else { return false }
        return key.verify(Array(sig), for: message)
    }

}

enum KeyFile {
    enum Kind { case signing, encryption }

    static func read(_ path: String, kind: Kind = .signing) throws(TransferError) -> [UInt8] {
        func invalid(_ reason: String) -> TransferError {
            kind == .signing ? .invalidKey(path: path, reason: reason) : .invalidEncryptionKey(path: path, reason: reason)
        }
        guard let bytes = try TransferError.io({ try FileSystem.readIfPresent(path, limit: 4096) }) else {
            throw invalid("file not found")
        }
        if bytes.count == 32 { return bytes }
        let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
        if text.utf8.count == 64, let raw = Hex.decode(text) { return raw }
        if let data = Data(base64Encoded: text), data.count == 32 { return Array(data) }
        throw invalid("\(bytes.count) bytes that are neither raw, hex nor base64 of 32 bytes")
    }

    /// Writes `raw` as base64 text with mode 0600.
    static func write(_ raw: [UInt8], to path: String) throws(TransferError) {
        do { try AtomicFile.write(Array((Data(raw).base64EncodedString() + "\n").utf8), to: path, permissions: [.ownerReadWrite]) } catch {
            throw .io(path: path, operation: "write the key file", detail: String(describing: error))
        }
    }
}
