import Foundation
import Testing
@testable import FerryTransfer

/// A receiver acknowledges chunks before they are fsynced and fsyncs its output at checkpoints. A
/// killed process loses nothing (the page cache survives it); a crashed host may lose what came after
/// the last checkpoint, and the receiver, seeing another boot id in its ack, resumes from there.
@Suite struct HostCrashTests {
    fileprivate func readAck(_ dir: String) -> TransferAck? {
        FileManager.default.contents(atPath: dir + "/ack").flatMap { TransferAck.decode([UInt8]($0)) }
    }

    /// Publishes chunks 1–3 of a 12-chunk transfer with a sender that then gives up, and lets a receiver
    /// consume them with a checkpoint every 2 chunks: the ack says 3 consumed, 2 durable.
    fileprivate func receiveThreeChunks(_ box: TransferSandbox, source: String) throws -> (dir: String, partial: String, options: TransferOptions) {
        var options = testOptions(chunk: 10_000, window: 3)
        options.checkpointInterval = 20_000
        options.expire = .milliseconds(500)
        _ = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey])).wait()
        // The receivers and the later senders never expire the transfer: a stall on a loaded machine (a
        // slow fsync, a descheduled thread) longer than a short expiry would delete the transfer folder
        // under the test (a receiver expires a folder idle for that long) or make the sender give up.
        options.expire = neverExpires
        let dir = try #require(box.transferFolders().first)
        _ = try TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient).processPending()
        let ack = try #require(readAck(dir))
        #expect(ack.consumed == 3)
        #expect(ack.durable == TransferAckPoint(consumed: 2, bytes: 20_000, chain: try #require(ack.durable?.chain)))
        #expect(ack.boot != nil)
        return (dir, box.out + "/.ferry-partial-" + (dir as NSString).lastPathComponent, options)
    }

    /// What a host crash leaves: the ack from the old boot, and the bytes after the checkpoint lost.
    private func crashHost(dir: String, partial: String) throws {
        var ack = try #require(readAck(dir))
        ack.boot = "a-boot-before-the-crash"
        try Data(ack.encoded()).write(to: URL(fileURLWithPath: dir + "/ack"))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partial))
        try handle.seek(toOffset: 20_000)
        handle.write(Data(repeating: 0, count: 4_000))
        try handle.truncate(atOffset: 24_000)
        try handle.close()
    }

    @Test(arguments: [true, false])
    func receiverOfACrashedHostResumesFromItsLastCheckpoint(senderAlreadyRunning: Bool) throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("crash.bin", count: 120_000, seed: 31)
        let (dir, partial, options) = try receiveThreeChunks(box, source: source)
        try crashHost(dir: dir, partial: partial)

        var sender: BackgroundSender?
        if senderAlreadyRunning {
            // The sender resumes from the ack it finds (3) and publishes chunk 4 before the receiver
            // comes back and moves its ack back to 2: the sender must then start again from chunk 3.
            sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
            #expect(eventually { FileManager.default.fileExists(atPath: dir + "/" + TransferLayout.chunkName(4)) })
        }
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        _ = try receiver.poll()
        if !senderAlreadyRunning {
            #expect(readAck(dir)?.consumed == 2)
            sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        }
        let pass = try receiveOne(receiver)
        let done = try #require(pass.completed.first,
                                "\(pass.failed); ack \(String(describing: readAck(dir))); files \(box.files(dir))")
        #expect(box.data(done.outputPath) == box.data(source))
        let summary = try #require(sender?.wait()).get()
        #expect(summary.resumed)
        #expect(summary.wireBytesWritten >= 100_000, "chunks 3 to 12 are sent again")
        let final = try #require(readAck(dir))
        #expect(final.state == "complete")
        #expect(final.durable?.consumed == 12)
    }

    @Test func killedReceiverOnTheSameHostKeepsWhatItAcknowledged() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("kill.bin", count: 120_000, seed: 32)
        let (dir, _, options) = try receiveThreeChunks(box, source: source)
        // Same boot: the unsynced chunk 3 is still in the page cache, so nothing is sent again.
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        _ = try receiver.poll()
        #expect(readAck(dir)?.consumed == 3)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(box.data(done.outputPath) == box.data(source))
        let summary = try #require(sender.wait()).get()
        #expect(summary.wireBytesWritten == 90_000)
    }
}

/// A crash of the host that holds the inbox can lose the name of a chunk renamed just before (the
/// folder is not fsynced after each chunk): the sender publishes it again.
@Suite struct LostChunkTests {
    @Test func aPublishedChunkThatVanishesUnconsumedIsPublishedAgain() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("lost.bin", count: 60_000, seed: 33)
        let options = testOptions(chunk: 10_000, window: 2)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        #expect(eventually { box.transferFolders().first.map { box.files($0).contains(TransferLayout.chunkName(2)) } ?? false })
        let dir = try #require(box.transferFolders().first)
        try FileManager.default.removeItem(atPath: dir + "/" + TransferLayout.chunkName(1))
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(box.data(done.outputPath) == box.data(source))
        let summary = try #require(sender.wait()).get()
        #expect(summary.wireBytesWritten == 70_000, "chunk 1 twice, the others once")
    }
}

extension HostCrashTests {
    @Test func anAckThatNoLongerDecodesRestartsTheTransferFromTheBeginning() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("garbled.bin", count: 120_000, seed: 34)
        let (dir, _, options) = try receiveThreeChunks(box, source: source)
        // The sender comes back and reads "3 consumed"; then the ack turns to garbage.
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        #expect(eventually { FileManager.default.fileExists(atPath: dir + "/" + TransferLayout.chunkName(4)) })
        try Data(repeating: 0, count: 40).write(to: URL(fileURLWithPath: dir + "/ack"))
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(box.data(done.outputPath) == box.data(source))
        let summary = try #require(sender.wait()).get()
        #expect(summary.wireBytesWritten >= 120_000, "every chunk is sent again")
    }
}
