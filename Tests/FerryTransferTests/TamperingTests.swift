import Foundation
import Testing
@testable import FerryTransfer

/// Every kind of damage to a transfer is refused, reported to the sender, and never published.
@Suite struct TamperingTests {
    /// A transfer fully staged in the inbox (all chunks and the final record) by a sender still
    /// waiting for the receiver.
    struct Staged {
        let box: TransferSandbox
        let source: String
        let dir: String
        let sender: BackgroundSender
        func chunk(_ i: Int) -> String { dir + "/" + TransferLayout.chunkName(i) }
    }

    private func stage(_ box: TransferSandbox, name: String = "model.bin", seed: UInt64 = 11, inbox: String? = nil,
                       key: TransferSigningKey? = nil) throws -> Staged {
        let source = try box.writeBytes(name, count: 50_000, seed: seed)
        let options = unencryptedOptions(chunk: 10_000, window: 8)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [inbox ?? box.inbox], options: options,
                                                     signingKey: key))
        var dir: String?
        let ready = eventually {
            dir = box.transferFolders(in: inbox).first
            return dir.map { FileManager.default.fileExists(atPath: $0 + "/final") } ?? false
        }
        try #require(ready)
        return Staged(box: box, source: source, dir: try #require(dir), sender: sender)
    }

    /// Runs the receiver and checks the transfer is refused with `reason` and nothing is published.
    private func expectRefused(_ s: Staged, trusting keys: [TransferPublicKey] = [], reason: String,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let receiver = TransferReceiver(inbox: s.box.inbox, outputDirectory: s.box.out, options: unencryptedOptions(),
                                        trustedKeys: keys)
        let pass = try receiveOne(receiver)
        #expect(pass.completed.isEmpty, sourceLocation: sourceLocation)
        let failure = try #require(pass.failed.first, sourceLocation: sourceLocation)
        #expect(failure.reason.contains(reason), "\(failure.reason)", sourceLocation: sourceLocation)
        #expect(s.box.files(s.box.out).isEmpty, "published or left: \(s.box.files(s.box.out))", sourceLocation: sourceLocation)
        #expect(FileManager.default.fileExists(atPath: s.dir + "/failed"), sourceLocation: sourceLocation)
        // The sender learns about the refusal and fails with it.
        let outcome = try #require(s.sender.wait(), sourceLocation: sourceLocation)
        guard case .failure(let error) = outcome, case TransferError.refused = error else {
            Issue.record("sender did not report the refusal: \(outcome)", sourceLocation: sourceLocation)
            return
        }
        // Later passes leave the refused transfer alone.
        #expect(try receiver.poll().failed.isEmpty, sourceLocation: sourceLocation)
    }

    private func modify(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        change(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func tamperedPayloadIsRefused() throws {
        let s = try stage(TransferSandbox())
        try modify(s.chunk(3)) { $0[$0.count - 100] ^= 0x01 }
        try expectRefused(s, reason: "SHA-256 does not match")
    }

    @Test func truncatedChunkIsRefused() throws {
        let s = try stage(TransferSandbox())
        try modify(s.chunk(2)) { $0.removeLast(10) }
        try expectRefused(s, reason: "truncated")
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
