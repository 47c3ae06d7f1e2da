import FerrySupport
import Foundation
import Testing
@testable import FerryTransfer

/// Spare chunks (docs/transfer-protocol.md §4a): the receiver renames each acknowledged chunk to a spare
/// name, and the sender overwrites a spare with a later chunk instead of creating a file. A spare that is
/// a link is never written through, and no spare outlives its transfer.
@Suite struct SpareChunkTests {
    private func spares(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(".spare-") }
    }

    @Test func theSenderWritesLaterChunksIntoTheFilesOfConsumedOnes() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("spares.bin", count: 400_000, seed: 51)
        let options = testOptions(chunk: 10_000, window: 4)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options,
                                                     recipients: [testRecipient.publicKey]))
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(box.data(done.outputPath) == box.data(source))
        let summary = try #require(sender.wait()).get()
        // 40 chunks, window 4: the first chunks need new files, most later ones find a spare.
        #expect(summary.sparesReused > 0 && summary.sparesReused < summary.chunkCount, "\(summary.sparesReused) of \(summary.chunkCount)")
        let dir = try #require(box.transferFolders().first)
        #expect(spares(dir).isEmpty, "spares left after the transfer: \(spares(dir))")
    }

    @Test func aSpareThatIsALinkIsNeitherFollowedNorUsed() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("links.bin", count: 60_000, seed: 52)
        let options = testOptions(chunk: 10_000, window: 2)
        let victim = try box.writeBytes("victim.bin", count: 5_000, seed: 53)
        let linked = try box.writeBytes("linked.bin", count: 5_000, seed: 54)
        let before = (box.data(victim), box.data(linked))
        // A sender that gave up left chunks 1 and 2; someone plants both kinds of link under the spare
        // name the resumed sender will look up for chunk 3 and 4 (window 2: one spare name, .spare-0).
        let dir = try abandonedSend(box, source: source, options: options)
        let spare = dir + "/" + TransferLayout.spareName(forChunk: 0, window: 2)
        try FileManager.default.createSymbolicLink(atPath: spare, withDestinationPath: victim)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options,
                                                     recipients: [testRecipient.publicKey]))
        nonisolated(unsafe) var planted = 0
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient) { _ in
            // After each chunk, a hard link to another file under the spare name (the receiver's own
            // spare is replaced by it).
            if planted < 3, link(linked, spare) == 0 || (unlink(spare) == 0 && link(linked, spare) == 0) { planted += 1 }
        }
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(box.data(done.outputPath) == box.data(source))
        _ = try #require(sender.wait()).get()
        #expect(box.data(victim) == before.0, "written through a symbolic link")
        #expect(box.data(linked) == before.1, "written through a hard link")
        #expect(planted > 0)
    }

    @Test func aRefusedTransferLeavesNoSpares() throws {
        let box = try TransferSandbox()
        let s = try StagedTransfer.stage(box, name: "refused.bin", seed: 55, inbox: nil, options: testOptions(chunk: 10_000, window: 8),
                                         recipients: [testRecipient.publicKey])
        // Chunks 1–4 are consumed and acknowledged (an ack every 4 chunks), so they are spares when
        // chunk 5 is refused.
        try modifyFile(s.chunk(5)) { $0[$0.count - 7] ^= 0x40 }
        try s.expectRefused(options: testOptions(), key: testRecipient, reason: "chunk-000005 does not open")
        #expect(spares(s.dir).isEmpty, "\(spares(s.dir))")
    }
}
