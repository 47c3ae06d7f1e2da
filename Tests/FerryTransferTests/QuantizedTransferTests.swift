import FerryQuant
import Foundation
import Testing
@testable import FerryTransfer

/// Quantization inline: the receiver's output equals the codec's own quantize + dequantize.
@Suite struct QuantizedTransferTests {
    @Test(arguments: QuantFormat.allCases, [TransferMode.file, .container])
    func inlineQuantizationMatchesTheCodec(format: QuantFormat, mode: TransferMode) throws {
        let box = try TransferSandbox()
        let model = try box.writeModel("model.safetensors")
        let quantized = box.root + "/q.safetensors", expected = box.root + "/expected.safetensors"
        try ModelQuantizer.quantize(input: model, output: quantized, format: format)
        try ModelQuantizer.dequantize(input: quantized, output: expected)

        var options = testOptions(chunk: 8 << 10, window: 2)
        options.quantize = format
        options.mode = mode
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        let sender = BackgroundSender(TransferSender(source: model, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        let pass = try receiveOne(receiver)
        let summary = try #require(sender.wait()).get()
        let done = try #require(pass.completed.first, "\(pass.failed)")

        #expect(done.filters == [TransferFilter(quantize: format.rawValue)])
        #expect(summary.streamBytes == Int64(try #require(box.data(quantized)).count))
        #expect(summary.streamBytes < summary.sourceBytes)
        #expect(done.outputPath == box.out + "/model.safetensors")
        #expect(box.data(done.outputPath) == box.data(expected))
        // Only the restored model is left in the output folder (no partial stream, no temporary file).
        #expect(box.files(box.out) == [ReceivedLedger.fileName, "model.safetensors"])
    }

    @Test(arguments: [QuantFormat.nf4, .nf4dq])
    func broadcastQuantizesOnceForThreeInboxes(format: QuantFormat) throws {
        let box = try TransferSandbox()
        let model = try box.writeModel("model.safetensors")
        let quantized = box.root + "/q.safetensors", expected = box.root + "/expected.safetensors"
        try ModelQuantizer.quantize(input: model, output: quantized, format: format)
        try ModelQuantizer.dequantize(input: quantized, output: expected)

        var options = testOptions(chunk: 4 << 10, window: 2)
        options.quantize = format
        let inboxes = try (1...3).map { try box.folder("inbox-\($0)") }
        let outs = try (1...3).map { try box.folder("out-\($0)") }
        let receivers = zip(inboxes, outs).map { TransferReceiver(inbox: $0, outputDirectory: $1, options: options, decryptionKey: testRecipient) }
        let sender = BackgroundSender(TransferSender(source: model, inboxes: inboxes, options: options, recipients: [testRecipient.publicKey]))
        var completed = 0
        #expect(eventually {
            for r in receivers { completed += ((try? r.processPending()) ?? []).count }
            return completed == 3
        })
        let summary = try #require(sender.wait()).get()
        // One quantizing pass produced the stream once; every receiver got it whole.
        #expect(summary.sourcePasses == 1)
        #expect(summary.producedBytes == summary.streamBytes)
        #expect(summary.wireBytesWritten == 3 * summary.streamBytes)
        for out in outs { #expect(box.data(out + "/model.safetensors") == box.data(expected)) }
    }
}
