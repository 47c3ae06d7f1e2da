import Crypto
import FerrySupport
import Foundation

/// The per-transfer content key and the STREAM construction that seals each chunk's body
/// (`info ‖ payload`) with it. See docs/transfer-protocol.md, section 13.
///
/// - nonce (12 bytes): chunk index as u64 big-endian ‖ 3 zero bytes ‖ 1 for the last chunk, else 0;
/// - associated data: the 60 bytes `FRYCHNK2` ‖ transfer id (16) ‖ index ‖ chunk count ‖ stream offset
///   ‖ payload length (u64 little-endian each) ‖ info length (u32 little-endian).
///
/// The key is fresh for every transfer, so a (key, nonce) pair is never reused; binding the id, index
/// and count refuses chunks replayed from another transfer, reordered or cut off at the end.
struct ContentCipher: Sendable {
    let aead: TransferAEAD
    private let keyBytes: [UInt8]
    private let transferID: [UInt8]
    private let chunkCount: Int

    static let tagSize = 16
    static let keySize = 32

    init(key: [UInt8], aead: TransferAEAD, transferID: [UInt8], chunkCount: Int) {
        keyBytes = key
        self.aead = aead
        self.transferID = transferID
        self.chunkCount = chunkCount
    }

    /// A fresh random 256-bit content key.
    static func randomKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    var key: [UInt8] { keyBytes }

    func nonce(index: Int) -> [UInt8] {
        var n = [UInt8](repeating: 0, count: 12)
        let be = UInt64(index).bigEndian
        withUnsafeBytes(of: be) { for i in 0..<8 { n[i] = $0[i] } }
        n[11] = index == chunkCount ? 1 : 0
        return n
    }

    func associatedData(index: Int, offset: Int64, payloadLength: Int, infoLength: Int) -> [UInt8] {
        var ad = Array("FRYCHNK2".utf8) + transferID
        func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { ad.append(contentsOf: $0) } }
        le(UInt64(index)); le(UInt64(chunkCount)); le(UInt64(offset)); le(UInt64(payloadLength)); le(UInt32(infoLength))
        return ad
    }

    /// Seals `body` (`info ‖ payload`). The ciphertext stays in the AEAD's own buffer and is written
    /// from there: copying it back would cost one more pass over every byte sent.
    func seal(_ body: UnsafeRawBufferPointer, index: Int, offset: Int64, payloadLength: Int, infoLength: Int) throws -> SealedChunkBody {
        let key = SymmetricKey(data: keyBytes)
        let ad = associatedData(index: index, offset: offset, payloadLength: payloadLength, infoLength: infoLength)
        switch aead {
        case .aes256GCM:
            let box = try AES.GCM.seal(body, using: key, nonce: try AES.GCM.Nonce(data: nonce(index: index)), authenticating: ad)
            return SealedChunkBody(combined: box.combined!)
        case .chaCha20Poly1305:
            let box = try ChaChaPoly.seal(body, using: key, nonce: try ChaChaPoly.Nonce(data: nonce(index: index)), authenticating: ad)
            return SealedChunkBody(combined: box.combined)
        }
    }

    /// A sealed chunk body copied out of the caller's buffer (swift-crypto's sealed box holds its own
    /// copy), ready for ``open(_:index:offset:payloadLength:infoLength:)``.
    enum Box {
        case aesGCM(AES.GCM.SealedBox)
        case chaChaPoly(ChaChaPoly.SealedBox)
    }

    /// Copies the ciphertext `body` and its `tag` into a sealed box for chunk `index`; the caller's
    /// buffer is free again when this returns.
    func box(_ body: UnsafeRawBufferPointer, tag: [UInt8], index: Int) throws -> Box {
        switch aead {
        case .aes256GCM:
            return .aesGCM(try AES.GCM.SealedBox(nonce: try AES.GCM.Nonce(data: nonce(index: index)), ciphertext: body, tag: tag))
        case .chaCha20Poly1305:
            return .chaChaPoly(try ChaChaPoly.SealedBox(nonce: try ChaChaPoly.Nonce(data: nonce(index: index)), ciphertext: body, tag: tag))
        }
    }

    /// The plaintext of `box`, or nil when its tag does not verify (wrong key, tampered, reordered,
    /// replayed or truncated).
    func open(_ box: Box, index: Int, offset: Int64, payloadLength: Int, infoLength: Int) -> Data? {
        let key = SymmetricKey(data: keyBytes)
        let ad = associatedData(index: index, offset: offset, payloadLength: payloadLength, infoLength: infoLength)
        switch box {
        case .aesGCM(let sealed): return try? AES.GCM.open(sealed, using: key, authenticating: ad)
        case .chaChaPoly(let sealed): return try? ChaChaPoly.open(sealed, using: key, authenticating: ad)
        }
    }
}

/// A sealed chunk body as the AEAD returned it: `nonce (12) ‖ ciphertext ‖ tag (16)`.
struct SealedChunkBody: @unchecked Sendable {
    let combined: Data

    /// The 16-byte tag.
    var tag: [UInt8] { Array(combined.suffix(ContentCipher.tagSize)) }

    /// Calls `body` with the ciphertext bytes.
    func withCiphertext<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try combined.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[12..<(raw.count - ContentCipher.tagSize)]))
        }
    }
}
