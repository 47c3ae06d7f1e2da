import Foundation
import Testing
@testable import FerryTransfer

/// Sealed transfers (protocol version 2): what a share can read, and the hostile fixtures of issue 18 —
/// the wrong key, swapped chunks, a truncated stream, a chunk replayed from another transfer, a recipient
/// not in the list, and a downgrade to `encryption: none` the receiver did not allow.
@Suite struct SealedTransferTests {
    typealias Staged = StagedTransfer

    private func stage(_ box: TransferSandbox, name: String = "model.bin", seed: UInt64 = 41, inbox: String? = nil,
                       to recipients: [TransferRecipientKey] = [testRecipient.publicKey],
                       options: TransferOptions = testOptions(chunk: 10_000, window: 8)) throws -> Staged {
        try StagedTransfer.stage(box, name: name, seed: seed, inbox: inbox, options: options, recipients: recipients)
    }

    private func expectRefused(_ s: Staged, reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try s.expectRefused(options: testOptions(), key: testRecipient, reason: reason, sourceLocation: sourceLocation)
    }

    private func modify(_ path: String, _ change: (inout [UInt8]) -> Void) throws { try modifyFile(path, change) }

    @Test func sealedChunksHoldNoPlaintextAndTheOutputIsExact() throws {
        let s = try stage(TransferSandbox())
        let plain = [UInt8](try Data(contentsOf: URL(fileURLWithPath: s.source)))
        let chunk = [UInt8](try Data(contentsOf: URL(fileURLWithPath: s.chunk(1))))
        #expect(Array(chunk[0..<8]) == Array("FRYCHNK2".utf8))
        let body = Array(chunk[ChunkHeader.size...])
        #expect(body.count == 10_000)
        #expect(body != Array(plain[0..<10_000]))
        // No 32-byte run of the source shows through.
        let probe = Array(plain[100..<132])
        #expect(!(0...(body.count - 32)).contains { Array(body[$0..<($0 + 32)]) == probe })
        let manifest = try #require(TransferManifest.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: s.dir + "/manifest.json")))))
        #expect(manifest.protocolVersion == 2)
        #expect(manifest.encryption?.recipients.map(\.publicKey) == [testRecipient.publicKey.base64])

        let receiver = TransferReceiver(inbox: s.box.inbox, outputDirectory: s.box.out, options: testOptions(), decryptionKey: testRecipient)
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(done.sealed)
        #expect(s.box.data(done.outputPath) == s.box.data(s.source))
        let summary = try #require(s.sender.wait()).get()
        #expect(summary.sealed)
    }

    @Test(arguments: TransferAEAD.allCases)
    func bothAEADsRoundTripAQuantizedContainer(aead: TransferAEAD) throws {
        let box = try TransferSandbox()
        let source = try box.writeModel("model.safetensors")
        var options = testOptions(chunk: 8 << 10, window: 4)
        options.mode = .container
        options.quantize = .fp16
        options.aead = aead
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options,
                                                     recipients: [testRecipient.publicKey]))
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(done.sealed)
        #expect(FileManager.default.fileExists(atPath: done.outputPath))
        _ = try #require(sender.wait()).get()
    }

    @Test func recipientNotInTheListIsRefused() throws {
        let s = try stage(TransferSandbox(), to: [TransferDecryptionKey.generate().publicKey])
        try expectRefused(s, reason: "not sealed to this receiver")
    }

    @Test func wrongKeyIsRefused() throws {
        // The manifest claims the entry is this receiver's, but the key was wrapped for another one.
        let other = TransferDecryptionKey.generate()
        let s = try stage(TransferSandbox(), to: [other.publicKey])
        try modify(s.dir + "/manifest.json") { bytes in
            // Decoded and encoded again: JSON writes `/` in base64 as `\/`.
            guard var manifest = TransferManifest.decode(bytes) else { return }
            manifest.encryption?.recipients[0].publicKey = testRecipient.publicKey.base64
            bytes = manifest.encoded()
        }
        try expectRefused(s, reason: "does not open")
    }

    @Test func swappedChunksAreRefused() throws {
        let s = try stage(TransferSandbox())
        var one = [UInt8](try Data(contentsOf: URL(fileURLWithPath: s.chunk(1))))
        var two = [UInt8](try Data(contentsOf: URL(fileURLWithPath: s.chunk(2))))
        // Swap the sealed bodies and tags, keep each header's index and offset: only the AEAD can tell.
        let h = ChunkHeader.size
        let tag1 = Array(one[56..<72]), tag2 = Array(two[56..<72])
        let body1 = Array(one[h...]), body2 = Array(two[h...])
        one.replaceSubrange(56..<72, with: tag2); one.replaceSubrange(h..., with: body2)
        two.replaceSubrange(56..<72, with: tag1); two.replaceSubrange(h..., with: body1)
        try Data(one).write(to: URL(fileURLWithPath: s.chunk(1)))
        try Data(two).write(to: URL(fileURLWithPath: s.chunk(2)))
        try expectRefused(s, reason: "does not open")
    }

    @Test func truncatedStreamIsRefused() throws {
        // Cut the last chunk off and make the manifest say the stream ends one chunk earlier: the
        // chunk count is bound in every chunk's associated data, and the last-chunk flag in its nonce.
        let s = try stage(TransferSandbox())
        try modify(s.dir + "/manifest.json") { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
                .replacingOccurrences(of: "\"chunkCount\" : 5", with: "\"chunkCount\" : 4")
                .replacingOccurrences(of: "\"streamSize\" : 50000", with: "\"streamSize\" : 40000")
                .replacingOccurrences(of: "\"size\" : 50000", with: "\"size\" : 40000")
            bytes = Array(text.utf8)
        }
        try FileManager.default.removeItem(atPath: s.chunk(5))
        try expectRefused(s, reason: "does not open")
    }

    @Test func chunkReplayedFromAnotherTransferIsRefused() throws {
        let box = try TransferSandbox()
        let otherInbox = try box.folder("other-inbox")
        let first = try stage(box, inbox: otherInbox)
        let second = try stage(box, name: "second.bin", seed: 42)
        // Chunk 2 of the other transfer, its header rewritten to name this transfer.
        var foreign = [UInt8](try Data(contentsOf: URL(fileURLWithPath: first.chunk(2))))
        let id = TransferID(hex: (second.dir as NSString).lastPathComponent)!.bytes
        foreign.replaceSubrange(8..<24, with: id)
        try Data(foreign).write(to: URL(fileURLWithPath: second.chunk(2)))
        try expectRefused(second, reason: "does not open")
    }

    @Test func downgradeToNoneIsRefusedUnlessTheReceiverAllowsIt() throws {
        var none = testOptions(chunk: 10_000, window: 8)
        none.encryption = .none
        let s = try stage(TransferSandbox(), to: [], options: none)
        let chunk = [UInt8](try Data(contentsOf: URL(fileURLWithPath: s.chunk(1))))
        #expect(Array(chunk[0..<8]) == Array("FRYCHNK1".utf8))
        try expectRefused(s, reason: "not encrypted")

        // Allowed on both sides, the unencrypted transfer goes through (and says so).
        let t = try stage(TransferSandbox(), to: [], options: none)
        let receiver = TransferReceiver(inbox: t.box.inbox, outputDirectory: t.box.out, options: none, decryptionKey: testRecipient)
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(!done.sealed)
        #expect(t.box.data(done.outputPath) == t.box.data(t.source))
    }

    @Test func unencryptedChunkInASealedTransferIsRefused() throws {
        // A share that rewrites a sealed chunk as a version 1 chunk with a matching SHA-256.
        let s = try stage(TransferSandbox())
        let plain = [UInt8](try Data(contentsOf: URL(fileURLWithPath: s.source)))[0..<10_000]
        try modify(s.chunk(1)) { bytes in
            let header = ChunkHeader(transferID: Array(bytes[8..<24]), index: 1, offset: 0, payloadLength: 10_000, infoLength: 0,
                                     digest: ChunkDigest.compute(UnsafeRawBufferPointer(start: nil, count: 0)))
            var file = [UInt8](repeating: 0, count: ChunkHeader.size)
            file.withUnsafeMutableBytes { header.write(into: $0) }
            bytes = file + plain
        }
        try expectRefused(s, reason: "downgrade refused")
    }

    @Test func aSealedSendNeedsARecipient() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("x.bin", count: 10)
        #expect(throws: TransferError.self) {
            _ = try TransferSender(source: source, inboxes: [box.inbox], options: testOptions()).run()
        }
        #expect(box.transferFolders().isEmpty)
    }

    @Test func aSealedTransferResumesWithTheSameKeyAfterTheSenderIsKilled() throws {
        // A sender that gives up (as if killed) leaves its state: the rerun uses the same transfer and key.
        let box = try TransferSandbox()
        let source = try box.writeBytes("resume.bin", count: 60_000, seed: 43)
        let options = testOptions(chunk: 10_000, window: 2)
        let dir = try abandonedSend(box, source: source, options: options)
        let manifest = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options,
                                                     recipients: [testRecipient.publicKey]))
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(box.data(done.outputPath) == box.data(source))
        #expect(try #require(sender.wait()).get().resumed)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json")) == manifest)
    }
}
