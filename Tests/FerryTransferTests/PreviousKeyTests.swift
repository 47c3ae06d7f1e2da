import Foundation
import Testing
@testable import FerryTransfer

/// A receiver whose key was rotated still opens transfers sealed to its previous key (in flight during
/// the rotation), says so, and prefers its current key.
@Suite struct PreviousKeyTests {
    private func send(_ box: TransferSandbox, name: String, to recipients: [TransferRecipientKey]) throws -> (String, BackgroundSender) {
        let source = try box.writeBytes(name, count: 40_000, seed: 51)
        return (source, BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: testOptions(chunk: 10_000, window: 8),
                                                        recipients: recipients)))
    }

    @Test func aTransferSealedToThePreviousKeyOpensAndSaysSo() throws {
        let box = try TransferSandbox()
        let old = TransferDecryptionKey.generate(), new = TransferDecryptionKey.generate()
        let (source, sender) = try send(box, name: "old.bin", to: [old.publicKey])
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: testOptions(),
                                        decryptionKey: new, previousDecryptionKey: old)
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(done.sealed && done.openedWithPreviousKey)
        #expect(box.data(done.outputPath) == box.data(source))
        _ = try #require(sender.wait()).get()
    }

    @Test func theCurrentKeyIsUsedWhenTheTransferIsSealedToBoth() throws {
        let box = try TransferSandbox()
        let old = TransferDecryptionKey.generate(), new = TransferDecryptionKey.generate()
        let (_, sender) = try send(box, name: "both.bin", to: [old.publicKey, new.publicKey])
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: testOptions(),
                                        decryptionKey: new, previousDecryptionKey: old)
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(done.sealed && !done.openedWithPreviousKey)
        _ = try #require(sender.wait()).get()
    }

    @Test func withoutThePreviousKeyTheTransferIsRefusedNamingTheCurrentKey() throws {
        let box = try TransferSandbox()
        let old = TransferDecryptionKey.generate(), new = TransferDecryptionKey.generate(), other = TransferDecryptionKey.generate()
        _ = try send(box, name: "old.bin", to: [old.publicKey])
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: testOptions(), decryptionKey: new)
        let failure = try #require(try receiveOne(receiver).failed.first)
        #expect(failure.reason.contains("not sealed to this receiver's encryption key \(new.publicKey.base64)"), "\(failure.reason)")

        // A previous key that is not the one either: both keys are named.
        let box2 = try TransferSandbox()
        _ = try send(box2, name: "old.bin", to: [old.publicKey])
        let receiver2 = TransferReceiver(inbox: box2.inbox, outputDirectory: box2.out, options: testOptions(),
                                         decryptionKey: new, previousDecryptionKey: other)
        let failure2 = try #require(try receiveOne(receiver2).failed.first)
        #expect(failure2.reason.contains("nor its previous key \(other.publicKey.base64)"), "\(failure2.reason)")
    }
}
