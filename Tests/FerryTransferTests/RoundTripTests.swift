import FerrySupport
import FerryTensors
import Foundation
import Testing
@testable import FerryTransfer

@Suite struct RoundTripTests {
    /// Sends `source` to the sandbox inbox with a concurrent receiver; returns the summary and output.
    private func roundTrip(_ box: TransferSandbox, source: String, options: TransferOptions) throws
        -> (TransferSummary, ReceivedTransfer) {
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        let pass = try receiveOne(receiver)
        let summary = try #require(sender.wait()).get()
        let received = try #require(pass.completed.first, "refused: \(pass.failed)")
        return (summary, received)
    }

    @Test func fileModeIsByteIdentical() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("data.bin", count: 300_001)
        let (summary, received) = try roundTrip(box, source: source, options: testOptions(chunk: 64 << 10, window: 2))
        #expect(summary.chunkCount == 5)
        #expect(summary.streamBytes == 300_001)
        #expect(summary.sourcePasses == 1)
        #expect(received.outputPath == box.out + "/data.bin")
        #expect(box.data(received.outputPath) == box.data(source))
        // Nothing but the published file in the output folder; no chunk left in the inbox.
        #expect(box.files(box.out) == [ReceivedLedger.fileName, "data.bin"])
        let dir = try #require(box.transferFolders().first)
        #expect(box.files(dir) == ["ack", "final", "manifest.json"])
    }

    @Test func containerModeIsByteIdentical() throws {
        let box = try TransferSandbox()
        let source = try box.writeModel("model.safetensors")
        var options = testOptions(chunk: 24 << 10, window: 2)
        options.mode = .container
        nonisolated(unsafe) var arrived = [String]()
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient) {
            arrived += $0.tensorsCompleted
        }
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        let received = try #require(try receiveOne(receiver).completed.first)
        let summary = try #require(sender.wait()).get()
        // Every tensor is announced once, in file order, as soon as its last byte arrived.
        let tensors = try SafetensorsReader(path: source).tensors.map(\.name)
        #expect(arrived == tensors)
        #expect(received.mode == .container)
        #expect(summary.chunkCount > 1)
        #expect(box.data(received.outputPath) == box.data(source))
    }

    @Test func emptyFileArrivesEmpty() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("empty.bin", count: 0)
        let (summary, received) = try roundTrip(box, source: source, options: testOptions())
        #expect(summary.chunkCount == 0)
        #expect(box.data(received.outputPath) == Data())
    }

    @Test func pollingOnlyModeCompletes() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("poll.bin", count: 100_000, seed: 3)
        var options = testOptions(chunk: 8 << 10, window: 2)
        options.pollingOnly = true
        #expect(!ChangeWaiter(notifications: !options.pollingOnly).usesNotifications)
        let (_, received) = try roundTrip(box, source: source, options: options)
        #expect(box.data(received.outputPath) == box.data(source))
    }

    @Test func broadcastReadsTheSourceOnceForThreeInboxes() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("model.bin", count: 200_000, seed: 5)
        let options = testOptions(chunk: 16 << 10, window: 2)
        let inboxes = try (1...3).map { try box.folder("inbox-\($0)") }
        let outs = try (1...3).map { try box.folder("out-\($0)") }
        let receivers = zip(inboxes, outs).map { TransferReceiver(inbox: $0, outputDirectory: $1, options: options, decryptionKey: testRecipient) }
        let sender = BackgroundSender(TransferSender(source: source, inboxes: inboxes, options: options, recipients: [testRecipient.publicKey]))
        var completed = [ReceivedTransfer]()
        #expect(eventually {
            for r in receivers { completed += (try? r.processPending()) ?? [] }
            return completed.count == 3
        })
        let summary = try #require(sender.wait()).get()
        #expect(summary.receivers == 3)
        #expect(summary.sourcePasses == 1)
        #expect(summary.producedBytes == 200_000)
        #expect(summary.wireBytesWritten == 3 * 200_000)
        #expect(Set(completed.map(\.transferID)).count == 1)
        for out in outs { #expect(box.data(out + "/model.bin") == box.data(source)) }
    }

    @Test func windowBoundsTheChunksOnTheShare() throws {
        let box = try TransferSandbox()
        let source = try box.writeBytes("big.bin", count: 400_000, seed: 9)
        let chunk = 8 << 10, window = 3
        let options = testOptions(chunk: chunk, window: window)
        // Without a receiver the sender publishes exactly `window` chunks, then waits. It gives up (a
        // short expiry), so all it would ever publish without an ack is there when the folder is read.
        var lonely = options
        lonely.expire = .milliseconds(300)
        let outcome = try #require(BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: lonely, recipients: [testRecipient.publicKey])).wait())
        guard case .failure(let error) = outcome, case TransferError.expired = error else {
            Issue.record("expected the sender to give up, got \(outcome)")
            return
        }
        let dir = try #require(box.transferFolders().first)
        #expect(box.files(dir).filter { $0.hasPrefix("chunk-") } == ["chunk-000001", "chunk-000002", "chunk-000003"])
        // The same send again (it resumes) with a receiver running: the folder never holds more than
        // `window` chunks.
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        nonisolated(unsafe) var peakChunks = 0
        nonisolated(unsafe) var peakBytes: Int64 = 0
        nonisolated(unsafe) var peakStaged = 0
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient) { _ in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            // Published chunks; the sender also stages up to two more under temporary names.
            let chunks = names.filter { $0.hasPrefix("chunk-") }
            peakChunks = max(peakChunks, chunks.count)
            peakStaged = max(peakStaged, names.filter { $0.hasPrefix(".chunk-") }.count)
            let bytes = names.filter { $0.contains("chunk-") || $0.hasPrefix(".spare-") }
                .compactMap { FileSystem.info(dir + "/" + $0)?.size }.reduce(0, +)
            peakBytes = max(peakBytes, bytes)
        }
        let pass = try receiveOne(receiver)
        #expect(pass.completed.count == 1)
        _ = try #require(sender.wait()).get()
        #expect(peakChunks >= 1)
        #expect(peakChunks <= window)
        #expect(peakStaged <= 2)
        // `window` published, two staged, and the receiver's spares (docs/transfer-protocol.md §4a).
        let spares = TransferLayout.spareSlots(window: window)
        #expect(peakBytes <= Int64((window + 2 + spares) * (chunk + ChunkHeader.size)))
        #expect(box.data(box.out + "/big.bin") == box.data(source))
    }
}
