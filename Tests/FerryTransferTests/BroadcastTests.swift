import FerrySupport
import Foundation
import Testing
@testable import FerryTransfer

/// Broadcast once (issue 18): chunks written once into a shared area for every recipient on the share,
/// deleted when all have acknowledged them; a slow, killed or dead recipient does not hold the others.
@Suite struct BroadcastTests {
    private func receiveAll(_ receivers: [TransferReceiver]) throws -> [ReceivedTransfer?] { try receiveEach(receivers) }

    @Test func fourRecipientsShareOneCopyAndGetIdenticalModels() throws {
        let s = try BroadcastSandbox(recipients: 4)
        let source = try s.box.writeBytes("model.bin", count: 1_000_000, seed: 5)
        let sender = s.send(source, options: s.options(chunk: 64 << 10, window: 3))
        let done = try receiveAll((0..<4).map { s.receiver($0) })
        let summary = try #require(sender.wait()).get()
        let original = try #require(s.box.data(source))
        for (k, transfer) in done.enumerated() {
            let t = try #require(transfer)
            #expect(t.sealed)
            #expect(s.box.data(t.outputPath) == original, "recipient \(k + 1)")
        }
        #expect(summary.broadcastRecipients == 4)
        // Everything the sender wrote to the share: chunks once, plus manifests, records and finals.
        let ratio = Double(summary.shareBytesWritten) / Double(original.count)
        #expect(ratio >= 1.0 && ratio <= 1.1, "wrote \(summary.shareBytesWritten) B for a \(original.count)-byte model (\(ratio)×)")
        // Nothing left behind: the area is gone, the inboxes never held chunks.
        #expect(s.box.files(s.areas).isEmpty, "\(s.box.files(s.areas))")
        for inbox in s.inboxes {
            let dir = try #require(s.box.transferFolders(in: inbox).first)
            #expect(!s.box.files(dir).contains { $0.hasPrefix(TransferLayout.chunkPrefix) })
            #expect(s.box.files(dir).contains(BroadcastLayout.record))
        }
    }

    /// A broadcast sealed before a recipient ran `ferry site rotate-key` still opens with the key the
    /// rotation kept (the record names the previous key, not the current one).
    @Test func aBroadcastSealedToARotatedOutKeyOpensWithThePreviousKey() throws {
        let s = try BroadcastSandbox(recipients: 2)
        let source = try s.box.writeBytes("model.bin", count: 100_000, seed: 11)
        let rotated = TransferDecryptionKey.generate()
        let sender = s.send(source, options: s.options(chunk: 16 << 10, window: 2))
        let receivers = [s.receiver(0),
                         TransferReceiver(inbox: s.inboxes[1], outputDirectory: s.outs[1], options: testOptions(),
                                          decryptionKey: rotated, previousDecryptionKey: s.keys[1])]
        let done = try receiveAll(receivers)
        _ = try #require(sender.wait()).get()
        let original = try #require(s.box.data(source))
        for transfer in done { #expect(s.box.data(try #require(transfer).outputPath) == original) }
    }

    @Test func aRecipientNotStartedDoesNotHoldTheOthersBack() throws {
        let s = try BroadcastSandbox(recipients: 4)
        let source = try s.box.writeBytes("model.bin", count: 200_000, seed: 6)
        // 20 chunks through a window of 2: the three running recipients finish although the fourth has
        // not read anything, and the area keeps every chunk the fourth still needs.
        let sender = s.send(source, options: s.options(chunk: 10_000, window: 2))
        let done = try receiveAll((0..<3).map { s.receiver($0) })
        #expect(done.allSatisfy { $0 != nil })
        let dir = try s.transferFolder(3)
        #expect(s.chunksPresent(in: s.area(of: dir), count: 20) == Array(1...20))
        #expect(sender.wait(seconds: 0.05) == nil, "the sender returned before the fourth recipient acknowledged")

        let last = try #require(try receiveAll([s.receiver(3)]).first ?? nil)
        #expect(s.box.data(last.outputPath) == s.box.data(source))
        _ = try #require(sender.wait()).get()
        #expect(!FileManager.default.fileExists(atPath: s.area(of: dir)))
    }

    @Test func chunksAreDeletedOnceEveryRecipientHasAcknowledgedThem() throws {
        let s = try BroadcastSandbox(recipients: 2)
        let source = try s.box.writeBytes("model.bin", count: 100_000, seed: 7)
        let sender = s.send(source, options: s.options(chunk: 10_000, window: 4))
        let fast = s.receiver(0)
        _ = try receiveAll([fast])
        let dir = try s.transferFolder(1)
        let area = s.area(of: dir)
        // The fast recipient has everything; the slow one nothing: every chunk is still there.
        #expect(s.chunksPresent(in: area, count: 10) == Array(1...10))
        // The slow recipient takes some chunks (one pass consumes all that are there: stop it early by
        // hiding chunks 5…10 under other names).
        for i in 5...10 { try FileSystem.move(area + "/" + TransferLayout.chunkName(i), to: area + "/hidden-\(i)") }
        let slow = s.receiver(1)
        _ = try slow.poll()
        #expect(s.consumed(1, dir: dir) == 4)
        #expect(eventually { s.chunksPresent(in: area, count: 4).isEmpty }, "chunks 1…4 acknowledged by both were not deleted")
        for i in 5...10 { try FileSystem.move(area + "/hidden-\(i)", to: area + "/" + TransferLayout.chunkName(i)) }
        let rest = try #require(try receiveAll([slow]).first ?? nil)
        #expect(s.box.data(rest.outputPath) == s.box.data(source))
        _ = try #require(sender.wait()).get()
        #expect(!FileManager.default.fileExists(atPath: area))
    }

    @Test func aRecipientKilledMidBroadcastResumes() throws {
        let s = try BroadcastSandbox(recipients: 3)
        let source = try s.box.writeBytes("model.bin", count: 150_000, seed: 8)
        let sender = s.send(source, options: s.options(chunk: 10_000, window: 3))
        let dir = try s.transferFolder(0)
        // Recipient 1 takes a few chunks, then its receiver is dropped without a goodbye (a killed
        // process leaves its partial output and its ack, as here). Once it has 2 chunks, the chunks
        // after them are hidden from it, so its pass ends there however fast the sender publishes.
        let area = s.area(of: dir)
        do {
            let first = s.receiver(0, stoppingAfter: 2, area: area, last: 15)
            try #require(eventually { (try? first.poll()) != nil && s.consumed(0, dir: dir) >= 2 })
        }
        #expect(s.consumed(0, dir: dir) < 15)
        let others = try receiveAll([s.receiver(1), s.receiver(2)])
        #expect(others.allSatisfy { $0 != nil })
        let resumed = try #require(try receiveAll([s.receiver(0)]).first ?? nil)
        #expect(s.box.data(resumed.outputPath) == s.box.data(source))
        _ = try #require(sender.wait()).get()
        #expect(s.box.files(s.areas).isEmpty)
        #expect(!s.box.files(s.outs[0]).contains { $0.hasPrefix(".ferry-partial") })
    }

    @Test func aChunkLostAheadOfTheSlowestRecipientIsPublishedAgain() throws {
        let s = try BroadcastSandbox(recipients: 2)
        let source = try s.box.writeBytes("model.bin", count: 120_000, seed: 10)
        let sender = s.send(source, options: s.options(chunk: 10_000, window: 3))
        let dir = try s.transferFolder(0)
        let area = s.area(of: dir)
        // Recipient 1 stops after chunk 1 (the chunks after it hidden from its pass, then put back).
        let slow = s.receiver(0, stoppingAfter: 1, area: area, last: 12)
        try #require(eventually { (try? slow.poll()) != nil && s.consumed(0, dir: dir) >= 1 })
        s.revealChunks(2...12, in: area)
        // Recipient 2 runs ahead; chunk 6 vanishes from the area before it reads it (chunk 5 may already
        // be read ahead). The sender, waiting for window room, must notice that recipient 2 (not only the
        // slowest one) lacks its next chunk.
        let fast = s.receiver(1) { p in
            guard p.chunks == 4 else { return }
            let six = area + "/" + TransferLayout.chunkName(6)
            if eventually(seconds: 30, { FileSystem.opens(six) }) { FileSystem.remove(six) }
        }
        let ahead = try #require(try receiveAll([fast]).first ?? nil)
        #expect(s.box.data(ahead.outputPath) == s.box.data(source))
        let behind = try #require(try receiveAll([slow]).first ?? nil)
        #expect(s.box.data(behind.outputPath) == s.box.data(source))
        _ = try #require(sender.wait()).get()
    }

    @Test func aDeadRecipientIsDroppedAndDoesNotPinTheArea() throws {
        let s = try BroadcastSandbox(recipients: 3)
        let source = try s.box.writeBytes("model.bin", count: 60_000, seed: 9)
        var options = s.options(chunk: 10_000, window: 2)
        // The only test that needs the expiry: the dead recipient is given up after 5 s without progress.
        options.expire = .seconds(5)
        let sender = s.send(source, options: options)
        let done = try receiveAll([s.receiver(0), s.receiver(1)])
        #expect(done.allSatisfy { $0 != nil })
        let outcome = try #require(sender.wait())
        guard case .failure(TransferError.expired(let inbox, _, _)) = outcome else {
            Issue.record("expected the send to report the dead recipient as expired, got \(outcome)")
            return
        }
        #expect(inbox == s.inboxes[2])
        #expect(s.box.files(s.areas).isEmpty, "the dead recipient pinned the area: \(s.box.files(s.areas))")
    }

    @Test func inboxesOutsideTheShareGetTheirOwnCopy() throws {
        let s = try BroadcastSandbox(recipients: 2)
        let outside = try s.box.folder("elsewhere/inbox")
        let out = try s.box.folder("out-elsewhere")
        let key = TransferDecryptionKey.generate()
        let source = try s.box.writeBytes("model.bin", count: 50_000, seed: 10)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: s.inboxes + [outside], options: s.options(),
                                                     recipients: s.keys.map(\.publicKey) + [key.publicKey]))
        let third = TransferReceiver(inbox: outside, outputDirectory: out, options: testOptions(), decryptionKey: key)
        let done = try receiveAll([s.receiver(0), s.receiver(1), third])
        for t in done { #expect(s.box.data(try #require(t).outputPath) == s.box.data(source)) }
        let summary = try #require(sender.wait()).get()
        #expect(summary.broadcastRecipients == 2)
        #expect(s.box.files(s.areas).isEmpty)
    }

    @Test func broadcastNeedsOneKeyPerInbox() throws {
        let s = try BroadcastSandbox(recipients: 2)
        let source = try s.box.writeBytes("model.bin", count: 1_000, seed: 11)
        let sender = TransferSender(source: source, inboxes: s.inboxes, options: s.options(), recipients: [s.keys[0].publicKey])
        #expect { try sender.run() } throws: { "\($0)".contains("one recipient key per inbox") }
    }
}
