import FerryShareHarness
import FerryQuant
import FerrySupport
import FerryTensors
import Foundation
import Testing
@testable import FerryTransfer

/// Transfers through a real network share (sshfs, default caching): the sender writes into the inbox
/// through one mount, the receiver reads it through the other, whose directory listings lag by 20 s.
/// The receiver lists the inbox only once, before anything is sent (its sweep interval is an hour): it
/// finds each transfer through the sender's announcement file, and the sender's window moves as soon
/// as the receiver deletes a chunk (an open, not a cached stat). Before either, each transfer took
/// minutes; the failsafe deadline below would fail it.
@Suite(.serialized) struct ShareTransferTests {
    @Test func fileContainerAndNF4AcrossTwoMounts() throws {
        guard let share = ShareHarness.start(for: "ShareTransferTests.fileContainerAndNF4AcrossTwoMounts") else { return }
        defer { share.stop() }
        let box = try TransferSandbox()
        let model = try writeModel(box.root + "/model.safetensors")
        let quantized = box.root + "/q.safetensors", expected = box.root + "/expected.safetensors"
        try ModelQuantizer.quantize(input: model, output: quantized, format: .nf4)
        try ModelQuantizer.dequantize(input: quantized, output: expected)
        try FileSystem.makeDirectory(share.a + "/inbox")

        let (options, receiving) = Self.shareOptions(sender: "site-a")
        let receiver = TransferReceiver(inbox: share.b + "/inbox", outputDirectory: box.out, options: receiving, decryptionKey: testRecipient)
        // The one sweep, of an empty inbox; later passes never list it.
        #expect(try receiver.poll().completed.isEmpty)

        let cases: [(TransferMode, QuantFormat?, String)] = [(.file, nil, model), (.container, nil, model), (.container, .nf4, expected)]
        for (mode, format, reference) in cases {
            var sending = options
            sending.mode = mode
            sending.quantize = format
            let start = Date()
            let sender = BackgroundSender(TransferSender(source: model, inboxes: [share.a + "/inbox"], options: sending, recipients: [testRecipient.publicKey]))
            let pass = try receiveOne(receiver, seconds: 150, pause: 20_000)
            let summary = try #require(sender.wait(seconds: 150), "\(mode) \(format?.rawValue ?? "") did not finish").get()
            let done = try #require(pass.completed.first, "\(mode) \(format?.rawValue ?? ""): \(pass.failed)")
            print("share transfer \(mode.rawValue)\(format.map { "+" + $0.rawValue } ?? ""): \(summary.chunkCount) chunks, "
                  + "\(summary.streamBytes) bytes in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
            #expect(summary.chunkCount > 2 * options.window)
            #expect(box.data(done.outputPath) == box.data(reference))
            try FileSystem.move(done.outputPath, to: box.root + "/received-\(mode.rawValue)-\(format?.rawValue ?? "none")")
        }
    }

    /// Options for both sides of a transfer across the share's two mounts: 64 KiB chunks, window 2,
    /// polling every 50 ms; the receiver reads `sender`'s announcements and sweeps once an hour (so,
    /// in a test, only on its first pass).
    static func shareOptions(sender: String) -> (sending: TransferOptions, receiving: TransferOptions) {
        var options = TransferOptions()
        options.chunkSize = 64 << 10
        options.window = 2
        options.pollInterval = .milliseconds(50)
        options.pollingOnly = true
        options.expire = .seconds(600)
        options.senderName = sender
        var receiving = options
        receiving.expectedSenders = [sender]
        receiving.sweepInterval = .seconds(3600)
        return (options, receiving)
    }

    /// A 3 MiB f32 model: one large tensor split across chunks and a few small ones grouped.
    private func writeModel(_ path: String) throws -> String {
        let specs = [
            TensorSpec(name: "embed.weight", dtype: .f32, shape: [512, 1024]),
            TensorSpec(name: "layer.0.bias", dtype: .f32, shape: [1024]),
            TensorSpec(name: "layer.0.weight", dtype: .f32, shape: [256, 1024]),
            TensorSpec(name: "head.weight", dtype: .f32, shape: [1024, 10]),
        ]
        let writer = try SafetensorsWriter(path: path, tensors: specs, metadata: ["format": "pt"])
        var g = SplitMix(seed: 11)
        for spec in specs {
            try writer.append(contentsOf: (0..<spec.shape.reduce(1, *)).map { _ in Float(g.normal() * 0.02) })
        }
        try writer.commit()
        return path
    }
}
