import FerrySupport
import Foundation
import Testing
@testable import FerryTransfer

/// Receivers refuse a shared area that does not match their signed record: a record for another
/// transfer, an area path that leads elsewhere, another manifest in the area, a recipient not in the
/// list, a forged record, a tampered shared chunk.
@Suite struct BroadcastHostileTests {
    /// A two-recipient broadcast of 50 000 bytes (5 chunks, all published) waiting for its receivers.
    private struct Staged {
        let s: BroadcastSandbox
        let source: String
        let dir: String
        let area: String
        let sender: BackgroundSender
        var record: String { dir + "/" + BroadcastLayout.record }
    }

    private func stage(signingKey: TransferSigningKey? = nil) throws -> Staged {
        let s = try BroadcastSandbox(recipients: 2)
        let source = try s.box.writeBytes("model.bin", count: 50_000, seed: 21)
        let sender = s.send(source, options: s.options(chunk: 10_000, window: 8), signingKey: signingKey)
        let dir = try s.transferFolder(0)
        try #require(eventually { FileManager.default.fileExists(atPath: dir + "/final") })
        return Staged(s: s, source: source, dir: dir, area: s.area(of: dir), sender: sender)
    }

    private func editRecord(_ t: Staged, _ change: (inout BroadcastRecord) -> Void) throws {
        try modifyFile(t.record) { bytes in
            guard var record = BroadcastRecord.decode(bytes) else { return }
            change(&record)
            bytes = record.encoded()
        }
    }

    /// Recipient 1 refuses with `reason`, publishes nothing and leaves the area alone; recipient 2 still
    /// receives the model, and the sender reports the refusal and removes the area.
    private func expectRefused(_ t: Staged, reason: String, trusting: [TransferPublicKey] = [],
                               key: TransferDecryptionKey? = nil, restore: () throws -> Void = {},
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let pass = try receiveOne(t.s.receiver(0, trusting: trusting, key: key))
        #expect(pass.completed.isEmpty, sourceLocation: sourceLocation)
        let failure = try #require(pass.failed.first, sourceLocation: sourceLocation)
        #expect(failure.reason.contains(reason), "\(failure.reason)", sourceLocation: sourceLocation)
        #expect(t.s.box.files(t.s.outs[0]).isEmpty, sourceLocation: sourceLocation)
        #expect(t.s.chunksPresent(in: t.area, count: 5) == Array(1...5), sourceLocation: sourceLocation)

        try restore()
        let other = try #require(try receiveOne(t.s.receiver(1, trusting: trusting)).completed.first, sourceLocation: sourceLocation)
        #expect(t.s.box.data(other.outputPath) == t.s.box.data(t.source), sourceLocation: sourceLocation)
        let outcome = try #require(t.sender.wait(), sourceLocation: sourceLocation)
        guard case .failure(TransferError.refused) = outcome else {
            Issue.record("sender did not report the refusal: \(outcome)", sourceLocation: sourceLocation)
            return
        }
        #expect(!FileManager.default.fileExists(atPath: t.area), sourceLocation: sourceLocation)
    }

    @Test func aRecordForAnotherTransferIsRefused() throws {
        let t = try stage()
        try editRecord(t) { $0.transferId = TransferID.random().hex }
        try expectRefused(t, reason: "wrong id")
    }

    @Test func anAreaPathThatLeadsElsewhereIsRefused() throws {
        let t = try stage()
        let other = TransferID.random().hex
        try editRecord(t) { $0.area = "../../" + BroadcastLayout.folder + "/" + other }
        try expectRefused(t, reason: "is not of the form")
        let t2 = try stage()
        try editRecord(t2) { $0.area = "/etc" }
        try expectRefused(t2, reason: "is not of the form")
    }

    @Test func anAreaHoldingAnotherManifestIsRefused() throws {
        let t = try stage()
        // Another transfer's area swapped in under this id: its manifest differs from the inbox's.
        let path = t.area + "/manifest.json"
        let original = try #require(t.s.box.data(path))
        try modifyFile(path) { bytes in
            guard var manifest = TransferManifest.decode(bytes) else { return }
            manifest.sender = "someone-else"
            bytes = manifest.encoded()
        }
        try expectRefused(t, reason: "holds another manifest") { try original.write(to: URL(fileURLWithPath: path)) }
    }

    @Test func aRecipientNotInTheListIsRefused() throws {
        let t = try stage()
        // A receiver whose key the broadcast was not sealed to, reading recipient 1's inbox.
        try expectRefused(t, reason: "not to this receiver", key: TransferDecryptionKey.generate())
        // And a record rewritten to name that receiver: the manifest's list still lacks it.
        let t2 = try stage()
        let stranger = TransferDecryptionKey.generate()
        try editRecord(t2) { $0.recipient = stranger.publicKey.base64 }
        try expectRefused(t2, reason: "not in the broadcast's recipient list", key: stranger)
    }

    @Test func aForgedRecordIsRefused() throws {
        let signer = TransferSigningKey.generate()
        let t = try stage(signingKey: signer)
        let forger = TransferSigningKey.generate()
        try editRecord(t) { record in
            record.area = "../../" + BroadcastLayout.folder + "/" + record.transferId
            record.signature = try? forger.sign(record.signedMessage).base64
        }
        try expectRefused(t, reason: "signature of the broadcast record", trusting: [signer.publicKey])
    }

    @Test func aTamperedSharedChunkIsRefused() throws {
        let t = try stage()
        try modifyFile(t.area + "/" + TransferLayout.chunkName(3)) { $0[$0.count - 1] ^= 0x01 }
        let pass = try receiveOne(t.s.receiver(0))
        let failure = try #require(pass.failed.first)
        #expect(failure.reason.contains("does not open"), "\(failure.reason)")
        #expect(t.s.box.files(t.s.outs[0]).isEmpty)
        // The refusing recipient deletes nothing in the shared area (the sender owns it).
        #expect(t.s.chunksPresent(in: t.area, count: 5) == Array(1...5))
        let second = try receiveOne(t.s.receiver(1))
        #expect(second.failed.first?.reason.contains("does not open") == true)
        let outcome = try #require(t.sender.wait())
        guard case .failure(TransferError.refused) = outcome else {
            Issue.record("sender did not report the refusal: \(outcome)")
            return
        }
        #expect(!FileManager.default.fileExists(atPath: t.area))
    }
}
