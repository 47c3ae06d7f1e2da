import FerryQuant
import Foundation
import Testing
@testable import FerryTransfer

/// nf4-dq inline in transfers: both stream modes, and a broadcast quantized once.
@Suite struct DoubleQuantizedTransferTests {
    @Test(arguments: [TransferMode.file, .container])
    func nf4DQRoundTripsInBothModes(mode: TransferMode) throws {
        let box = try TransferSandbox()
        let model = try box.writeModel("model.safetensors")
        let quantized = box.root + "/q.safetensors", expected = box.root + "/expected.safetensors"
        try ModelQuantizer.quantize(input: model, output: quantized, format: .nf4dq)
        try ModelQuantizer.dequantize(input: quantized, output: expected)

        var options = testOptions(chunk: 4 << 10, window: 2)
        options.quantize = .nf4dq
        options.mode = mode
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options)
        let sender = BackgroundSender(TransferSender(source: model, inboxes: [box.inbox], options: options))
        let pass = try receiveOne(receiver)
        let summary = try #require(sender.wait()).get()
        let done = try #require(pass.completed.first, "\(pass.failed)")

        #expect(done.filters == [TransferFilter(quantize: "nf4-dq")])
        #expect(summary.streamBytes == Int64(try #require(box.data(quantized)).count))
        #expect(box.data(done.outputPath) == box.data(expected))
        #expect(box.files(box.out) == [ReceivedLedger.fileName, "model.safetensors"])
    }

    @Test func broadcastQuantizesNf4DQOnceForThreeInboxes() throws {
        let box = try TransferSandbox()
        let model = try box.writeModel("model.safetensors")
        let quantized = box.root + "/q.safetensors", expected = box.root + "/expected.safetensors"
        try ModelQuantizer.quantize(input: model, output: quantized, format: .nf4dq)
        try ModelQuantizer.dequantize(input: quantized, output: expected)

        var options = testOptions(chunk: 4 << 10, window: 2)
        options.quantize = .nf4dq
        let inboxes = try (1...3).map { try box.folder("inbox-\($0)") }
        let outs = try (1...3).map { try box.folder("out-\($0)") }
        let receivers = zip(inboxes, outs).map { TransferReceiver(inbox: $0, outputDirectory: $1, options: options) }
        let sender = BackgroundSender(TransferSender(source: model, inboxes: inboxes, options: options))
        var completed = 0
        #expect(eventually {
            for r in receivers { completed += ((try? r.processPending()) ?? []).count }
            return completed == 3
        })
        let summary = try #require(sender.wait()).get()
        #expect(summary.sourcePasses == 1)
        #expect(summary.producedBytes == summary.streamBytes)
        #expect(summary.wireBytesWritten == 3 * summary.streamBytes)
        for out in outs { #expect(box.data(out + "/model.safetensors") == box.data(expected)) }
    }
}
