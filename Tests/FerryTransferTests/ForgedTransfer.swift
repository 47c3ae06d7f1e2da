import Crypto
import FerrySupport
import Foundation
@testable import FerryTransfer

/// A whole transfer written by hand, as a sender that lies about its source or its chunk plan would:
/// every chunk digest, the stream digest and the manifest digest in the final record are consistent,
/// so only the receiver's own checks of the manifest and of the plan can refuse it.
struct ForgedTransfer {
    static let id = "0123456789abcdef0123456789abcdef"
    var manifest: TransferManifest
    /// Info and payload of every chunk, in order.
    var chunks: [(info: [UInt8], payload: [UInt8])]

    /// An honest transfer of `bytes` (named `name`), cut by ferry's own chunk plan.
    init(bytes: [UInt8], name: String = "model.bin", mode: TransferMode = .file, chunkSize: Int,
         segments: [StreamSegment] = []) {
        let size = Int64(bytes.count)
        let plan = mode == .file
            ? ChunkPlan.fixed(streamSize: size, chunkSize: chunkSize)
            : ChunkPlan.container(segments: segments, streamSize: size, chunkSize: chunkSize)
        chunks = plan.chunks.map { ($0.info, Array(bytes[Int($0.offset)..<(Int($0.offset) + $0.length)])) }
        manifest = TransferManifest(
            protocolVersion: 1, transferId: Self.id, sender: "forger", created: "2026-11-30T00:00:00.000Z",
            mode: mode, chunkSize: chunkSize, window: 8, filters: [],
            source: TransferSourceInfo(name: name, size: size, sha256: nil), streamSize: size,
            chunkCount: chunks.count, signerPublicKey: nil, metadata: [:])
    }

    /// The transfer folder in `inbox`.
    func folder(_ inbox: String) -> String { inbox + "/" + Self.id }

    /// Writes the manifest and chunks `range` (1-based), and the final record when `final`.
    func write(into inbox: String, chunks range: ClosedRange<Int>? = nil, final: Bool = true) throws {
        let dir = folder(inbox)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let manifestBytes = manifest.encoded()
        try Data(manifestBytes).write(to: URL(fileURLWithPath: dir + "/manifest.json"))
        var chain = DigestChain()
        var offset: Int64 = 0
        for (i, chunk) in chunks.enumerated() {
            let body = chunk.info + chunk.payload
            let digest = Array(SHA256.hash(data: body))
            chain.append(digest)
            if range?.contains(i + 1) ?? true {
                let header = ChunkHeader(transferID: TransferID(hex: Self.id)!.bytes, index: UInt64(i + 1),
                                         offset: UInt64(offset), payloadLength: UInt64(chunk.payload.count),
                                         infoLength: UInt32(chunk.info.count), digest: digest)
                var file = [UInt8](repeating: 0, count: ChunkHeader.size)
                file.withUnsafeMutableBytes { header.write(into: $0) }
                try Data(file + body).write(to: URL(fileURLWithPath: dir + "/" + TransferLayout.chunkName(i + 1)))
            }
            offset += Int64(chunk.payload.count)
        }
        guard final else { return }
        let record = TransferFinalRecord(chunkCount: manifest.chunkCount, totalBytes: offset, streamDigest: chain.hex,
                                         manifestSHA256: Hex.encode(Array(SHA256.hash(data: manifestBytes))),
                                         signature: nil)
        try Data(record.encoded()).write(to: URL(fileURLWithPath: dir + "/final"))
    }
}

/// SHA-256 of `bytes`, hex.
func sha256Hex(_ bytes: [UInt8]) -> String { Hex.encode(Array(SHA256.hash(data: bytes))) }
