import FerrySupport
import Crypto

/// The fixed 88-byte header at the start of every chunk file, followed by `infoLength` bytes of
/// UTF-8 JSON (container mode: the tensors the chunk holds) and `payloadLength` bytes of stream.
///
/// Layout (little-endian integers): magic `FRYCHNK1` (8) · transfer id (16) · index (u64) ·
/// stream offset (u64) · payload length (u64) · info length (u32) · reserved zero (u32) ·
/// SHA-256 of info ‖ payload (32).
struct ChunkHeader: Equatable {
    static let size = 88
    static let magic: [UInt8] = Array("FRYCHNK1".utf8)
    /// Sealed chunks (version 2): the digest field holds the 16-byte AEAD tag, then 16 zero bytes.
    static let sealedMagic: [UInt8] = Array("FRYCHNK2".utf8)

    var transferID: [UInt8]
    var index: UInt64
    var offset: UInt64
    var payloadLength: UInt64
    var infoLength: UInt32
    var digest: [UInt8]

    /// Writes the header into the first 88 bytes of `buffer`.
    func write(into buffer: UnsafeMutableRawBufferPointer, magic: [UInt8] = ChunkHeader.magic) {
        var pos = 0
        func put(_ bytes: [UInt8]) {
            for b in bytes { buffer[pos] = b; pos += 1 }
        }
        func putLE<T: FixedWidthInteger>(_ v: T) {
            var le = v.littleEndian
            withUnsafeBytes(of: &le) { for b in $0 { buffer[pos] = b; pos += 1 } }
        }
        put(magic)
        put(transferID)
        putLE(index)
        putLE(offset)
        putLE(payloadLength)
        putLE(infoLength)
        putLE(UInt32(0))
        put(digest + [UInt8](repeating: 0, count: 32 - digest.count))
    }

    /// Parses the first 88 bytes of `buffer`; nil when the magic or the reserved field is wrong.
    static func parse(_ buffer: UnsafeRawBufferPointer, magic: [UInt8] = ChunkHeader.magic) -> ChunkHeader? {
        guard buffer.count >= size, Array(buffer[0..<8]) == magic else { return nil }
        func le<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            var v: T = 0
            withUnsafeMutableBytes(of: &v) { dst in
                for i in 0..<MemoryLayout<T>.size { dst[i] = buffer[at + i] }
            }
            return T(littleEndian: v)
        }
        guard le(52, UInt32.self) == 0 else { return nil }
        return ChunkHeader(transferID: Array(buffer[8..<24]), index: le(24, UInt64.self),
                           offset: le(32, UInt64.self), payloadLength: le(40, UInt64.self),
                           infoLength: le(48, UInt32.self), digest: Array(buffer[56..<88]))
    }
}

/// The stream digest: a hash chain over the chunk digests, c₀ = 32 zero bytes,
/// cᵢ = SHA-256(cᵢ₋₁ ‖ dᵢ). Its 32-byte state fits in the ack, so both sides resume without re-hashing.
struct DigestChain: Equatable {
    private(set) var value: [UInt8]

    init() { value = [UInt8](repeating: 0, count: 32) }

    init?(hex: String) {
        guard let raw = Hex.decode(hex), raw.count == 32 else { return nil }
        value = raw
    }

    mutating func append(_ chunkDigest: [UInt8]) {
        var h = SHA256()
        h.update(data: value)
        h.update(data: chunkDigest)
        value = Array(h.finalize())
    }

    var hex: String { Hex.encode(value) }
}

enum ChunkDigest {
    /// SHA-256 of `info ‖ payload`.
    static func compute(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }
}
