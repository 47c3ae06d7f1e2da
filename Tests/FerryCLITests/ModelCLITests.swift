import Foundation
import Testing

private let hasNumpy = FerryCLI.pythonHasNumpy
private let hasSafetensors = FerryCLI.python("import numpy, safetensors.numpy")

@Suite struct ModelCLITests {
    @Test func synthInspectQuantizeDequantize() throws {
        let dir = try FerryCLI.temporaryDirectory("model")
        defer { try? FileManager.default.removeItem(at: dir) }
        let synth = try FerryCLI.run(["model", "synth", "m.safetensors", "--like", "llama-tiny", "--seed", "4"], in: dir)
        #expect(synth.status == 0, "\(synth.stderr)")
        #expect(synth.stdout.contains("21 tensors, 220864 values"))
        let quantize = try FerryCLI.run(["model", "quantize", "m.safetensors", "q.safetensors", "--format", "blockwise8", "--error"], in: dir)
        #expect(quantize.status == 0, "\(quantize.stderr)")
        #expect(quantize.stdout.contains("Before: 0.84 MiB. After: 0.21 MiB with meta: 0.01 MiB."))
        #expect(quantize.stdout.contains("quantization error: mean abs "), "\(quantize.stdout)")
        // A successful run prints nothing that reads as an error message.
        let lines = (quantize.stdout + quantize.stderr).split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("error:") }, "\(quantize.stdout)")
        let inspect = try FerryCLI.run(["model", "inspect", "q.safetensors"], in: dir)
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("blockwise8, block 4096 ← F32 [1003, 64]"))
        #expect(inspect.stdout.contains("absmax of model.embed_tokens.weight"))
        #expect(inspect.stdout.contains("quantized: blockwise8, 21 tensors"))
        let restore = try FerryCLI.run(["model", "dequantize", "q.safetensors", "r.safetensors"], in: dir)
        #expect(restore.status == 0, "\(restore.stderr)")
        let again = try FerryCLI.run(["model", "inspect", "r.safetensors", "--limit", "0"], in: dir)
        #expect(again.stdout.contains("tensors: 21, values: 220864"))
        #expect(!again.stdout.contains("quantized:"))
    }

    @Test func usageAndInputErrorsHaveTheirExitCodes() throws {
        let dir = try FerryCLI.temporaryDirectory("model")
        defer { try? FileManager.default.removeItem(at: dir) }
        let format = try FerryCLI.run(["model", "quantize", "a", "b", "--format", "int3"], in: dir)
        #expect(format.status == 2)
        #expect(format.stderr.contains("fp16, bf16, blockwise8, fp4, nf4"))
        #expect(try FerryCLI.run(["model", "synth", "m.safetensors", "--like", "gpt5"], in: dir).status == 2)
        #expect(try FerryCLI.run(["model", "synth", "m.safetensors", "--like", "tiny-mlp", "--dtype", "i8"], in: dir).status == 2)
        let missing = try FerryCLI.run(["model", "quantize", "none.safetensors", "q.safetensors", "--format", "nf4"], in: dir)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("none.safetensors"))
        #expect(try FerryCLI.run(["model", "synth", "m.safetensors", "--like", "tiny-mlp"], in: dir).status == 0)
        let plain = try FerryCLI.run(["model", "dequantize", "m.safetensors", "r.safetensors"], in: dir)
        #expect(plain.status == 1)
        #expect(plain.stderr.contains("not a ferry-quantized model"))
    }

    @Test func benchQuantPrintsEveryFormat() throws {
        let r = try FerryCLI.run(["bench", "quant", "--size", "1MiB", "--repeat", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        for format in ["fp16", "bf16", "blockwise8", "fp4", "nf4", "fp4-dq", "nf4-dq"] {
            #expect(r.stdout.contains("\(format) quantize") && r.stdout.contains("\(format) dequantize"))
        }
        #expect(try FerryCLI.run(["bench", "quant", "--size", "1KiB"]).status == 2)
    }

    @Test(.enabled(if: hasNumpy, "python3 with numpy is not installed"), arguments: ["fp16", "bf16", "blockwise8", "fp4", "nf4", "fp4-dq", "nf4-dq"])
    func numpyDequantizerAgreesWithFerry(format: String) throws {
        let dir = try FerryCLI.temporaryDirectory("model")
        defer { try? FileManager.default.removeItem(at: dir) }
        let dtype = format.hasSuffix("16") ? "f32" : format == "blockwise8" ? "f16" : "bf16"
        #expect(try FerryCLI.run(["model", "synth", "m.safetensors", "--like", "llama-tiny", "--dtype", dtype], in: dir).status == 0)
        #expect(try FerryCLI.run(["model", "quantize", "m.safetensors", "q.safetensors", "--format", format], in: dir).status == 0)
        #expect(try FerryCLI.run(["model", "dequantize", "q.safetensors", "ferry.safetensors"], in: dir).status == 0)
        let script = FerryCLI.repositoryRoot.appendingPathComponent("docs/examples/dequantize.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, "q.safetensors", "numpy.safetensors"]
        p.currentDirectoryURL = dir
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let ours = try Data(contentsOf: dir.appendingPathComponent("ferry.safetensors"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("numpy.safetensors")) == ours)
    }

    /// docs/quantized-format.md section 8 (the restored file's exact bytes) on awkward names, metadata and
    /// tensors: the example script, written from the page, must write what ferry writes.
    @Test(.enabled(if: hasNumpy, "python3 with numpy is not installed"), arguments: ["fp16", "bf16", "blockwise8", "fp4", "nf4", "fp4-dq", "nf4-dq"])
    func numpyDequantizerAgreesWithFerryOnAwkwardModels(format: String) throws {
        let dir = try FerryCLI.temporaryDirectory("model")
        defer { try? FileManager.default.removeItem(at: dir) }
        func python(_ arguments: [String]) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3"] + arguments
            p.currentDirectoryURL = dir
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        let root = FerryCLI.repositoryRoot
        #expect(try python([root.appendingPathComponent("Tests/FerryCLITests/Fixtures/awkward_model.py").path, "m.safetensors"]) == 0)
        #expect(try FerryCLI.run(["model", "quantize", "m.safetensors", "q.safetensors", "--format", format], in: dir).status == 0)
        #expect(try FerryCLI.run(["model", "dequantize", "q.safetensors", "ferry.safetensors"], in: dir).status == 0)
        #expect(try python([root.appendingPathComponent("docs/examples/dequantize.py").path, "q.safetensors", "numpy.safetensors"]) == 0)
        let ours = try Data(contentsOf: dir.appendingPathComponent("ferry.safetensors"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("numpy.safetensors")) == ours)
    }

    @Test(.enabled(if: hasSafetensors, "python3 with the safetensors package is not installed"))
    func pythonSafetensorsReadsQuantizedAndRestoredFiles() throws {
        let dir = try FerryCLI.temporaryDirectory("model")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try FerryCLI.run(["model", "synth", "m.safetensors", "--like", "tiny-mlp"], in: dir).status == 0)
        #expect(try FerryCLI.run(["model", "quantize", "m.safetensors", "q.safetensors", "--format", "fp4"], in: dir).status == 0)
        #expect(try FerryCLI.run(["model", "dequantize", "q.safetensors", "r.safetensors"], in: dir).status == 0)
        let check = """
        from safetensors import safe_open
        import numpy as np
        q = safe_open('q.safetensors', 'np'); r = safe_open('r.safetensors', 'np'); m = safe_open('m.safetensors', 'np')
        assert q.metadata()['ferry.quantized.format'] == 'fp4'
        assert q.get_tensor('fc1.weight').dtype == np.uint8 and q.get_tensor('fc1.weight.absmax').shape == (32,)
        assert sorted(r.keys()) == sorted(m.keys()) and r.metadata() == m.metadata()
        for k in m.keys():
            a, b = m.get_tensor(k), r.get_tensor(k)
            assert a.dtype == b.dtype and a.shape == b.shape, k
            assert np.abs(a.astype(np.float64) - b).max() <= 0.2 * np.abs(a).max() + 1e-9, k
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", check]
        p.currentDirectoryURL = dir
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
