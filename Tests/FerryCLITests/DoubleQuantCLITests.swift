import Foundation
import Testing

/// `ferry model quantize --format nf4-dq` end to end: sizes, inspect notes, restore, usage errors.
@Suite struct DoubleQuantCLITests {
    @Test func quantizeInspectAndRestoreNf4DQ() throws {
        let dir = try FerryCLI.temporaryDirectory("model")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try FerryCLI.run(["model", "synth", "m.safetensors", "--like", "llama-tiny", "--seed", "4"], in: dir).status == 0)
        let quantize = try FerryCLI.run(["model", "quantize", "m.safetensors", "q.safetensors", "--format", "nf4-dq", "--error"], in: dir)
        #expect(quantize.status == 0, "\(quantize.stderr)")
        #expect(quantize.stdout.contains("q.safetensors: nf4-dq, 21 of 21 tensors quantized"), "\(quantize.stdout)")
        #expect(quantize.stdout.contains("quantization error: mean abs "))
        let inspect = try FerryCLI.run(["model", "inspect", "q.safetensors", "--limit", "0"], in: dir)
        let original = try FerryCLI.run(["model", "inspect", "m.safetensors", "--limit", "0"], in: dir)
        let full = try FerryCLI.run(["model", "inspect", "q.safetensors"], in: dir)
        #expect(full.stdout.contains("nf4-dq, block 64 ← F32 [1003, 64]"), "\(full.stdout)")
        #expect(full.stdout.contains("absmax of model.embed_tokens.weight (8-bit codes)"))
        #expect(full.stdout.contains("absmax scales of model.embed_tokens.weight"))
        #expect(full.stdout.contains("absmax offset of model.embed_tokens.weight"))
        // The restored size counts the model's tensors only, not the three absmax tensors of each.
        let data = try #require(original.stdout.split(separator: "\n").first { $0.hasPrefix("tensors:") })
            .components(separatedBy: "data: ")[1].components(separatedBy: " (")[0]
        #expect(inspect.stdout.contains("quantized: nf4-dq, 21 tensors; restores to \(data) of data"), "\(inspect.stdout)")
        let restore = try FerryCLI.run(["model", "dequantize", "q.safetensors", "r.safetensors"], in: dir)
        #expect(restore.status == 0, "\(restore.stderr)")
        let bad = try FerryCLI.run(["model", "quantize", "m.safetensors", "x.safetensors", "--format", "nf4-dqq"], in: dir)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("fp4-dq, nf4-dq"), "\(bad.stderr)")
    }
}
