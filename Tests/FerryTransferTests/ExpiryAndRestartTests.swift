import Foundation
import Testing
@testable import FerryTransfer

@Suite struct ExpiryAndRestartTests {
    private func readAck(_ box: TransferSandbox, _ dir: String) -> TransferAck? {
        box.data(dir + "/ack").flatMap { TransferAck.decode([UInt8]($0)) }
    }

    /// Options whose expiry (1 h) `age(_:seconds:)` by 2 h passes, but no stall of a test can reach.
    private func hourExpiry(_ options: TransferOptions = testOptions()) -> TransferOptions {
        var options = options
        options.expire = .seconds(3600)
        return options
    }

    private func age(_ path: String, seconds: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-seconds)], ofItemAtPath: path)
    }

    @Test func senderGivesUpWhenNobodyAcknowledges() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("lonely.bin", count: 100_000)
        var options = testOptions(chunk: 10_000, window: 2)
        options.expire = .milliseconds(300)
        let outcome = try #require(BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey])).wait())
        guard case .failure(let error) = outcome, case TransferError.expired = error else {
            Issue.record("expected an expiry, got \(outcome)")
            return
        }
        #expect(String(describing: error).contains("Re-run the same send command to resume"))
        // The window's chunks are there for a later resume.
        let dir = try #require(box.transferFolders().first)
        #expect(box.files(dir).filter { $0.hasPrefix("chunk-") }.count == 2)
    }

    @Test func receiverDeletesAbandonedTransfersAndTheirPartialOutput() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("abandoned.bin", count: 100_000)
        var options = testOptions(chunk: 10_000, window: 2)
        options.expire = .milliseconds(300)
        _ = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey])).wait()
        let dir = try #require(box.transferFolders().first)
        let id = (dir as NSString).lastPathComponent
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: hourExpiry(), decryptionKey: testRecipient)
        #expect(try receiver.processPending().isEmpty)
        #expect(box.files(box.out) == [".ferry-partial-\(id)"])
        // Not yet expired: still there after another pass.
        #expect(try receiver.poll().expired.isEmpty)
        try age(dir, seconds: 7200)
        let pass = try receiver.poll()
        #expect(pass.expired == [id])
        #expect(box.transferFolders().isEmpty)
        #expect(box.files(box.out).isEmpty)
    }

    @Test func settledTransfersAndOrphanPartialsAreCleanedAfterExpiry() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("done.bin", count: 30_000)
        let options = hourExpiry(testOptions(chunk: 10_000, window: 2))
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        #expect(try receiveOne(receiver).completed.count == 1)
        _ = try #require(sender.wait()).get()
        let dir = try #require(box.transferFolders().first)
        let orphan = box.out + "/.ferry-partial-0123456789abcdef0123456789abcdef"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: orphan))
        _ = try receiver.poll()
        #expect(box.transferFolders() == [dir])
        #expect(FileManager.default.fileExists(atPath: orphan))
        try age(dir, seconds: 7200)
        try age(orphan, seconds: 7200)
        _ = try receiver.poll()
        #expect(box.transferFolders().isEmpty)
        #expect(box.files(box.out) == [ReceivedLedger.fileName, "done.bin"])
    }

    @Test func restartedReceiverResumesFromItsAckAfterACrash() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("resume.bin", count: 120_000, seed: 21)
        var options = testOptions(chunk: 10_000, window: 3)
        options.expire = .milliseconds(300)
        // A first sender publishes the window and gives up, nobody acknowledging.
        _ = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey])).wait()
        let dir = try #require(box.transferFolders().first)
        let id = (dir as NSString).lastPathComponent
        // First receiver consumes what is there, then "dies" (dropped without any cleanup). It and the
        // second sender never expire the transfer (a stall under load must not delete it under them).
        options.expire = neverExpires
        do {
            let first = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
            _ = try first.processPending()
        }
        let ackBefore = try #require(readAck(box, dir))
        #expect(ackBefore.consumed == 3)
        // Leave what a kill -9 at the worst moments leaves: bytes written past the ack, and a consumed
        // chunk whose deletion never happened.
        let partial = box.out + "/.ferry-partial-\(id)"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partial))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0xEE, count: 5000))
        try handle.close()
        try Data("stale".utf8).write(to: URL(fileURLWithPath: dir + "/" + TransferLayout.chunkName(1)))
        try Data("half-written".utf8).write(to: URL(fileURLWithPath: dir + "/.ack.tmp-1-x"))
        // The same send, run again, resumes the same transfer; so does a new receiver.
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        let second = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        let pass = try receiveOne(second)
        let done = try #require(pass.completed.first, "\(pass.failed)")
        #expect(box.data(done.outputPath) == box.data(source))
        let summary = try #require(sender.wait()).get()
        #expect(summary.resumed)
        #expect(done.transferID == id)
        #expect(box.transferFolders() == [dir])
        #expect(box.files(dir) == ["ack", "final", "manifest.json"])
    }

    @Test func commitCutShortBeforeTheFinalAckIsFinishedOnRestart() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("commit.bin", count: 40_000, seed: 22)
        let options = testOptions(chunk: 10_000, window: 8)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        #expect(try receiveOne(receiver).completed.count == 1)
        _ = try #require(sender.wait()).get()
        // Rewind the ack to "receiving" as if the receiver died between the rename and the final ack.
        let dir = try #require(box.transferFolders().first)
        var ack = try #require(readAck(box, dir))
        ack.state = "receiving"
        try Data(ack.encoded()).write(to: URL(fileURLWithPath: dir + "/ack"))
        let restarted = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        let pass = try receiveOne(restarted)
        #expect(pass.failed.isEmpty)
        #expect(pass.completed.count == 1)
        #expect(box.data(box.out + "/commit.bin") == box.data(source))
        #expect(box.files(box.out) == [ReceivedLedger.fileName, "commit.bin"])
    }
}
