import Foundation
import Testing
@testable import FerryTransfer

/// The torn-chunk rule: senders do not fsync the chunks of a receiver's own inbox, so a crash of the host
/// that holds the inbox can leave a chunk empty, cut short or with blocks of zeros. The receiver
/// deletes such a chunk and the sender publishes it again; a chunk that keeps arriving damaged refuses
/// the transfer, and any other damage is refused at once (TamperingTests, SealedFixtureTests).
@Suite struct TornChunkTests {
    /// Stages a 50 000-byte transfer (chunks of 10 000, window 8) with a sender waiting for its receiver.
    private func stage(_ box: TransferSandbox, sealed: Bool) throws -> StagedTransfer {
        try StagedTransfer.stage(box, name: "torn.bin", seed: 41, inbox: nil,
                                 options: sealed ? testOptions(chunk: 10_000, window: 8) : unencryptedOptions(chunk: 10_000, window: 8),
                                 recipients: sealed ? [testRecipient.publicKey] : [])
    }

    /// Receives the staged transfer after `damage` was done to chunk 2: it completes with the source's
    /// bytes, reports one damaged chunk, and the sender wrote chunk 2 twice.
    private func expectRecovered(sealed: Bool, _ damage: (inout [UInt8]) -> Void,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let box = try TransferSandbox()
        let s = try stage(box, sealed: sealed)
        try modifyFile(s.chunk(2), damage)
        let options = sealed ? testOptions() : unencryptedOptions()
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options,
                                        decryptionKey: sealed ? testRecipient : nil)
        let pass = try receiveOne(receiver)
        #expect(pass.failed.isEmpty, "\(pass.failed)", sourceLocation: sourceLocation)
        let done = try #require(pass.completed.first, sourceLocation: sourceLocation)
        #expect(box.data(done.outputPath) == box.data(s.source), sourceLocation: sourceLocation)
        #expect(done.damagedChunksResent == 1, sourceLocation: sourceLocation)
        let summary = try #require(s.sender.wait(), sourceLocation: sourceLocation).get()
        // Chunk 2 twice, the others once; the sender's second pass may also publish a chunk again whose
        // ack it read just before the receiver's (a duplicate the receiver deletes), hence at least.
        #expect(summary.wireBytesWritten >= 60_000, "chunk 2 twice, the others once", sourceLocation: sourceLocation)
    }

    @Test func anEmptyChunkFileIsPublishedAgain() throws {
        try expectRecovered(sealed: true) { $0 = [] }
    }

    @Test func aChunkCutShortIsPublishedAgain() throws {
        try expectRecovered(sealed: true) { $0.removeLast(5_000) }
        try expectRecovered(sealed: false) { $0.removeLast(10) }
    }

    @Test func aSealedChunkWithABlockOfZerosIsPublishedAgain() throws {
        try expectRecovered(sealed: true) { bytes in
            for i in 4096..<8192 { bytes[i] = 0 }
        }
    }

    @Test func aChunkWhoseHeaderIsZerosIsPublishedAgain() throws {
        try expectRecovered(sealed: false) { bytes in
            for i in 0..<ChunkHeader.size { bytes[i] = 0 }
        }
    }

    /// The receiver is driven pass by pass with no live sender: the test puts the damaged chunk back
    /// each time the receiver deletes it, and the third damaged copy refuses the transfer.
    @Test func aChunkThatArrivesDamagedThreeTimesRefusesTheTransfer() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("torn.bin", count: 50_000, seed: 42)
        // The sender publishes every chunk (the window holds them all), finds no receiver and gives up.
        let dir = try abandonedSend(box, source: source, options: testOptions(chunk: 10_000, window: 8))
        let chunk2 = dir + "/" + TransferLayout.chunkName(2)
        var torn = [UInt8](try Data(contentsOf: URL(fileURLWithPath: chunk2)))
        torn.removeLast(1_000)
        try Data(torn).write(to: URL(fileURLWithPath: chunk2))
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: testOptions(), decryptionKey: testRecipient)
        for attempt in 1...2 {
            let pass = try receiver.poll()
            #expect(pass.failed.isEmpty && pass.completed.isEmpty, "attempt \(attempt)")
            #expect(!FileManager.default.fileExists(atPath: chunk2), "the damaged chunk is deleted")
            let ack = try #require(TransferAck.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/ack")))))
            #expect(ack.consumed == 1, "the ack names the chunk before the damaged one")
            try Data(torn).write(to: URL(fileURLWithPath: chunk2))
        }
        let pass = try receiver.poll()
        let failure = try #require(pass.failed.first)
        #expect(failure.reason.contains("chunk-000002 is truncated"), "\(failure.reason)")
        #expect(failure.reason.contains("arrived damaged 3 times"), "\(failure.reason)")
        #expect(FileManager.default.fileExists(atPath: dir + "/failed"))
        #expect(box.files(box.out).isEmpty)
    }

    /// A flipped bit is tampering, not a torn write: refused at once, without waiting for a new copy.
    @Test func aFlippedBitInASealedChunkIsRefusedAtOnce() throws {
        let box = try TransferSandbox()
        let s = try stage(box, sealed: true)
        try modifyFile(s.chunk(2)) { $0[5_000] ^= 0x20 }
        try s.expectRefused(options: testOptions(), key: testRecipient, reason: "chunk-000002 does not open with the transfer's content key")
    }
}
