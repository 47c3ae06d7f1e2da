import Foundation
import Testing
@testable import FerryTransfer

/// Replay of an old transfer: a copy of a signed transfer folder, taken while it was in the inbox,
/// dropped back after the receiver consumed it and the folder was cleaned up. It is validly signed by a
/// trusted key, so only the receiver's memory of what it published can refuse it; accepted, it would
/// roll the output back to the old model.
@Suite struct HostileReplayTests {
    @Test func replayedSignedTransferIsRefusedAndTheNewerOutputStays() throws {
        let box = try TransferSandbox()
        let key = TransferSigningKey.generate()
        let options = testOptions(chunk: 10_000, window: 8)
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: testOptions(),
                                        trustedKeys: [key.publicKey], decryptionKey: testRecipient)

        // Version 1 is staged; the attacker copies its folder, then the receiver takes it.
        let v1 = try box.writeBytes("model.bin", count: 30_000, seed: 1)
        let first = BackgroundSender(TransferSender(source: v1, inboxes: [box.inbox], options: options, signingKey: key, recipients: [testRecipient.publicKey]))
        var staged: String?
        try #require(eventually {
            staged = box.transferFolders().first
            return staged.map { FileManager.default.fileExists(atPath: $0 + "/final") } ?? false
        })
        let oldFolder = try #require(staged)
        let snapshot = box.root + "/snapshot"
        try FileManager.default.copyItem(atPath: oldFolder, toPath: snapshot)
        #expect(try receiveOne(receiver).completed.count == 1)
        guard case .success? = first.wait() else { Issue.record("first transfer did not complete"); return }
        try FileManager.default.removeItem(atPath: oldFolder)   // as the expiry cleanup does

        // Version 2 replaces it.
        let v2 = try box.writeBytes("model.bin", count: 30_000, seed: 2)
        let v2Bytes = try #require(box.data(v2))
        let second = BackgroundSender(TransferSender(source: v2, inboxes: [box.inbox], options: options, signingKey: key, recipients: [testRecipient.publicKey]))
        #expect(try receiveOne(receiver).completed.count == 1)
        guard case .success? = second.wait() else { Issue.record("second transfer did not complete"); return }
        #expect(box.data(box.out + "/model.bin") == v2Bytes)

        // The replay: refused, and the newer output is untouched.
        try FileManager.default.copyItem(atPath: snapshot, toPath: oldFolder)
        let pass = try receiveOne(receiver)
        #expect(pass.completed.isEmpty, "the replayed transfer was published again")
        let failure = try #require(pass.failed.first)
        #expect(failure.reason.contains("replay"), "\(failure.reason)")
        #expect(box.data(box.out + "/model.bin") == v2Bytes)
        // A fresh receiver (after a restart) remembers too.
        try FileManager.default.removeItem(atPath: oldFolder)
        try FileManager.default.copyItem(atPath: snapshot, toPath: oldFolder)
        let restarted = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: testOptions(),
                                         trustedKeys: [key.publicKey], decryptionKey: testRecipient)
        let again = try receiveOne(restarted)
        #expect(again.completed.isEmpty)
        #expect(again.failed.first?.reason.contains("replay") == true, "\(again.failed)")
        #expect(box.data(box.out + "/model.bin") == v2Bytes)
    }
}
