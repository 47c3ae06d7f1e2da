import Foundation
import Testing
@testable import FerryTransfer

/// Every kind of damage to a transfer is refused, reported to the sender, and never published.
@Suite struct TamperingTests {
    typealias Staged = StagedTransfer

    private func stage(_ box: TransferSandbox, name: String = "model.bin", seed: UInt64 = 11, inbox: String? = nil,
                       key: TransferSigningKey? = nil) throws -> Staged {
        try StagedTransfer.stage(box, name: name, seed: seed, inbox: inbox, options: unencryptedOptions(chunk: 10_000, window: 8),
                                 signingKey: key)
    }

    private func expectRefused(_ s: Staged, trusting keys: [TransferPublicKey] = [], reason: String,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        try s.expectRefused(options: unencryptedOptions(), trusting: keys, reason: reason, sourceLocation: sourceLocation)
    }

    private func modify(_ path: String, _ change: (inout [UInt8]) -> Void) throws { try modifyFile(path, change) }

    @Test func tamperedPayloadIsRefused() throws {
        let s = try stage(TransferSandbox())
        try modify(s.chunk(3)) { $0[$0.count - 100] ^= 0x01 }
        try expectRefused(s, reason: "SHA-256 does not match")
    }

    @Test func paddedChunkIsRefused() throws {
        let s = try stage(TransferSandbox())
        try modify(s.chunk(2)) { $0 += [1, 2, 3] }
        try expectRefused(s, reason: "truncated or padded")
    }

    @Test func finalRecordClaimingAShorterStreamIsRefused() throws {
        let s = try stage(TransferSandbox())
        try modify(s.dir + "/final") { bytes in
            var record = try! JSONDecoder().decode(TransferFinalRecord.self, from: Data(bytes))
            record.chunkCount = 4
            record.totalBytes = 40_000
            bytes = record.encoded()
        }
        try expectRefused(s, reason: "truncated transfer")
    }

    @Test func duplicatedChunkIsRefused() throws {
        let s = try stage(TransferSandbox())
        try FileManager.default.removeItem(atPath: s.chunk(3))
        try FileManager.default.copyItem(atPath: s.chunk(2), toPath: s.chunk(3))
        try expectRefused(s, reason: "chunk index 2")
    }

    @Test func duplicatedChunkWithRewrittenHeaderIsRefused() throws {
        let s = try stage(TransferSandbox())
        // Copy chunk 2's payload into chunk 3 and patch index and offset so the header looks right:
        // the stream digest in the final record no longer matches.
        let third = [UInt8](try Data(contentsOf: URL(fileURLWithPath: s.chunk(3))))
        var copy = [UInt8](try Data(contentsOf: URL(fileURLWithPath: s.chunk(2))))
        copy.replaceSubrange(24..<40, with: third[24..<40])
        try Data(copy).write(to: URL(fileURLWithPath: s.chunk(3)))
        try expectRefused(s, reason: "stream digest does not match")
    }

    @Test func outOfOrderChunksAreRefused() throws {
        let s = try stage(TransferSandbox())
        let tmp = s.dir + "/swap"
        try FileManager.default.moveItem(atPath: s.chunk(2), toPath: tmp)
        try FileManager.default.moveItem(atPath: s.chunk(4), toPath: s.chunk(2))
        try FileManager.default.moveItem(atPath: tmp, toPath: s.chunk(4))
        try expectRefused(s, reason: "out of order")
    }

    @Test func foreignChunkIsRefused() throws {
        let box = try TransferSandbox()
        let s = try stage(box)
        let other = try stage(box, name: "other.bin", seed: 12, inbox: try box.folder("inbox-2"))
        try FileManager.default.removeItem(atPath: s.chunk(2))
        try FileManager.default.copyItem(atPath: other.chunk(2), toPath: s.chunk(2))
        try expectRefused(s, reason: "foreign chunk")
    }

    @Test func forgedManifestIsRefused() throws {
        let s = try stage(TransferSandbox())
        try modify(s.dir + "/manifest.json") { bytes in
            bytes = Array(String(decoding: bytes, as: UTF8.self)
                .replacingOccurrences(of: "\"model.bin\"", with: "\"evil.bin\"").utf8)
        }
        try expectRefused(s, reason: "does not match the manifest")
    }

    @Test func manifestForAnotherFolderIsRefused() throws {
        let box = try TransferSandbox()
        let s = try stage(box)
        let other = try stage(box, name: "other.bin", seed: 12, inbox: try box.folder("inbox-2"))
        try FileManager.default.removeItem(atPath: s.dir + "/manifest.json")
        try FileManager.default.copyItem(atPath: other.dir + "/manifest.json", toPath: s.dir + "/manifest.json")
        try expectRefused(s, reason: "foreign manifest")
    }

    @Test func badSignatureIsRefused() throws {
        let key = TransferSigningKey.generate()
        let s = try stage(TransferSandbox(), key: key)
        try modify(s.dir + "/final") { bytes in
            var record = try! JSONDecoder().decode(TransferFinalRecord.self, from: Data(bytes))
            var sig = [UInt8](Data(base64Encoded: record.signature!)!)
            sig[0] ^= 0x80
            record.signature = Data(sig).base64EncodedString()
            bytes = record.encoded()
        }
        try expectRefused(s, trusting: [key.publicKey], reason: "signature")
    }

    @Test func untrustedSignerIsRefused() throws {
        let s = try stage(TransferSandbox(), key: TransferSigningKey.generate())
        try expectRefused(s, trusting: [TransferSigningKey.generate().publicKey], reason: "does not trust")
    }

    @Test func unsignedTransferIsRefusedWhenKeysAreRequired() throws {
        let s = try stage(TransferSandbox())
        try expectRefused(s, trusting: [TransferSigningKey.generate().publicKey], reason: "not signed")
    }

    @Test func validSignatureIsAccepted() throws {
        let key = TransferSigningKey.generate()
        let s = try stage(TransferSandbox(), key: key)
        let receiver = TransferReceiver(inbox: s.box.inbox, outputDirectory: s.box.out, options: unencryptedOptions(),
                                        trustedKeys: [key.publicKey])
        let pass = try receiveOne(receiver)
        let done = try #require(pass.completed.first, "\(pass.failed)")
        #expect(done.signed)
        #expect(s.box.data(done.outputPath) == s.box.data(s.source))
        _ = try #require(s.sender.wait()).get()
    }
}
