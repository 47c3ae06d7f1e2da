import FerryShareHarness
import FerrySupport
import Foundation
import Testing
@testable import FerryTransfer

/// Broadcast once through a real network share (sshfs, default caching: listings lag by 20 s): the
/// sender writes the shared area and the records through one mount, three receivers read through the
/// other. Every name a side waits for is looked up, never listed, so the broadcast finishes well within
/// the failsafe, and the area is gone at the end.
@Suite(.serialized) struct ShareBroadcastTests {
    @Test func threeRecipientsReadOneCopyAcrossTwoMounts() throws {
        guard let share = ShareHarness.start(for: "ShareBroadcastTests.threeRecipientsReadOneCopyAcrossTwoMounts") else { return }
        defer { share.stop() }
        let box = try TransferSandbox()
        let source = try box.writeBytes("model.bin", count: 1_500_000, seed: 31)
        let keys = (1...3).map { _ in TransferDecryptionKey.generate() }
        for k in 1...3 { try FileSystem.makeDirectory(share.a + "/site-\(k)/inbox") }

        let (options, receiving) = ShareTransferTests.shareOptions(sender: "server")
        let receivers = try (1...3).map { k in
            let out = try box.folder("out-\(k)")
            return TransferReceiver(inbox: share.b + "/site-\(k)/inbox", outputDirectory: out, options: receiving,
                                    decryptionKey: keys[k - 1])
        }
        // The one sweep each, of an empty inbox; later passes never list it.
        for r in receivers { #expect(try r.poll().completed.isEmpty) }

        var sending = options
        sending.broadcastShare = share.a
        let sender = BackgroundSender(TransferSender(source: source, inboxes: (1...3).map { share.a + "/site-\($0)/inbox" },
                                                     options: sending, recipients: keys.map(\.publicKey)))
        let done = try receiveEach(receivers, seconds: 150, pause: 20_000)
        let summary = try #require(sender.wait(seconds: 150), "the broadcast did not finish").get()
        #expect(summary.broadcastRecipients == 3)
        #expect(Double(summary.shareBytesWritten) <= 1.1 * 1_500_000)
        for transfer in done { #expect(box.data(try #require(transfer).outputPath) == box.data(source)) }
        let id = summary.transferID
        #expect(!FileSystem.opens(share.a + "/" + BroadcastLayout.folder + "/\(id)/manifest.json"))
    }
}
