import FerrySupport
import Foundation

/// One step of the filter chain applied by the sender, undone by the receiver in reverse order.
public struct TransferFilter: Codable, Equatable, Sendable {
    /// Quantization format (`fp16`, `bf16`, `blockwise8`, `fp4`, `nf4`) when this step quantizes.
    public var quantize: String?

    /// A quantization step.
    public init(quantize: String) { self.quantize = quantize }
}

/// What is known about the sent file.
public struct TransferSourceInfo: Codable, Equatable, Sendable {
    /// Base name of the source file; the receiver's output gets this name.
    public var name: String
    /// Size of the source file in bytes. Unfiltered transfers: must equal the stream size.
    public var size: Int64
    /// SHA-256 of the source file (64 hex digits), when the sender gives it (ferry's sender does not:
    /// it would read the source twice). Unfiltered transfers: the receiver refuses the transfer unless
    /// the received file has this digest. Filtered transfers: informational (the original file cannot
    /// be rebuilt from its quantized form), only its format is checked.
    public var sha256: String?
}

/// `manifest.json`: written first, never changed. See docs/transfer-protocol.md.
public struct TransferManifest: Codable, Equatable, Sendable, JSONRecord {
    /// Protocol version: 1 (unencrypted) or 2 (sealed, with ``encryption``).
    public var protocolVersion: Int
    /// 32 hex characters, equal to the transfer's folder name.
    public var transferId: String
    /// Sender name (free text).
    public var sender: String
    /// Creation time, ISO 8601 UTC.
    public var created: String
    /// `file` or `container`.
    public var mode: TransferMode
    /// Maximum chunk payload in bytes.
    public var chunkSize: Int
    /// Maximum number of unconsumed chunks.
    public var window: Int
    /// Filters applied by the sender, in order.
    public var filters: [TransferFilter]
    /// The file the stream was made from.
    public var source: TransferSourceInfo
    /// Exact number of bytes in the stream (after filters).
    public var streamSize: Int64
    /// Exact number of chunks.
    public var chunkCount: Int
    /// Ed25519 public key (base64 of 32 bytes) of the signer, when the transfer is signed.
    public var signerPublicKey: String?
    /// Free-form key/values (job id, message kind, round…).
    public var metadata: [String: String]
    /// Version 2: the chunk AEAD and the content key wrapped for each recipient; absent in version 1.
    public var encryption: TransferEncryption? = nil

    /// Unencrypted transfers (`encryption: none`).
    static let currentVersion = 1
    /// Sealed transfers.
    static let sealedVersion = 2

}

/// `final`: written after the last chunk.
public struct TransferFinalRecord: Codable, Equatable, Sendable, JSONRecord {
    /// Number of chunks sent.
    public var chunkCount: Int
    /// Number of stream bytes sent.
    public var totalBytes: Int64
    /// The stream digest: the hash chain over all chunk digests (hex), see docs.
    public var streamDigest: String
    /// SHA-256 of the exact `manifest.json` bytes (hex).
    public var manifestSHA256: String
    /// Ed25519 signature (base64) over ``signedMessage``, when signed.
    public var signature: String?

    /// The bytes the signature covers (`ferry-transfer-v1` or `-v2` after the protocol version).
    func signedMessage(version: Int) -> [UInt8] {
        Array("ferry-transfer-v\(version)\n\(manifestSHA256)\n\(chunkCount)\n\(totalBytes)\n\(streamDigest)\n".utf8)
    }

}

/// `ack`: replaced atomically by the receiver after each consumed chunk.
public struct TransferAck: Codable, Equatable, Sendable, JSONRecord {
    /// `receiving` or `complete`.
    public var state: String
    /// The transfer this ack belongs to.
    public var transferId: String
    /// Highest consumed chunk index (0 before the first).
    public var consumed: Int
    /// Stream bytes consumed.
    public var bytes: Int64
    /// Hash-chain value after chunk `consumed` (hex, 64 zeros before the first chunk).
    public var chain: String
    /// Time of this ack, ISO 8601 UTC.
    public var updated: String
    /// The receiver host's boot identifier when it wrote this ack (absent in acks of receivers that
    /// fsync every chunk). A receiver restarted under another boot trusts only ``durable``.
    public var boot: String? = nil
    /// The last point whose output bytes were fsynced (absent: every acknowledged chunk is durable).
    public var durable: TransferAckPoint? = nil

    static var isPrettyPrinted: Bool { false }
}

/// A position in the stream: chunks consumed, bytes, and the hash chain there.
public struct TransferAckPoint: Codable, Equatable, Sendable {
    /// Highest chunk index up to which the output is durable.
    public var consumed: Int
    /// Stream bytes up to that chunk.
    public var bytes: Int64
    /// Hash-chain value after that chunk (hex).
    public var chain: String
}

/// `failed`: written by the receiver when it refuses a transfer.
public struct TransferFailureRecord: Codable, Equatable, Sendable, JSONRecord {
    /// Why the transfer was refused.
    public var reason: String
    /// When, ISO 8601 UTC.
    public var at: String

}


/// A JSON file or field of the protocol: encoded with sorted keys (the exact bytes matter for the
/// manifest, whose SHA-256 is signed), decoded leniently (nil for anything that does not decode).
protocol JSONRecord: Codable {
    /// Whether the encoding is indented (records read by people) or compact (per-chunk data).
    static var isPrettyPrinted: Bool { get }
}

extension JSONRecord {
    static var isPrettyPrinted: Bool { true }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = Self.isPrettyPrinted ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    static func decode(_ bytes: [UInt8]) -> Self? {
        try? JSONDecoder().decode(Self.self, from: Data(bytes))
    }
}
