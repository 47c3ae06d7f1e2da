import Foundation
import Testing
@testable import FerryTensors

/// Runs python3 with a script; the result's status and combined output.
enum Python {
    /// True when `python3` with `numpy` and `safetensors` is available.
    static let available: Bool = {
        (try? run("import numpy, safetensors").status == 0) ?? false
    }()

    static func run(_ script: String, arguments: [String] = []) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

@Suite(.enabled(if: Python.available, "needs python3 with numpy and safetensors (pip install numpy safetensors)"))
struct PythonInteropTests {
    /// The same byte pattern as `patternBytes` in TestSupport.swift.
    static let pattern = "def pattern(n, seed): return bytes(((i * 31 + seed * 7) & 0xFF) for i in range(n))\n"

    @Test func filesWrittenHereLoadInPython() throws {
        let dir = try TemporaryDirectory("interop")
        let path = dir.path("swift.safetensors")
        let numpyTypes: [DType] = [.f64, .f32, .f16, .i64, .i32, .i16, .i8, .u64, .u32, .u16, .u8, .bool]
        var specs = numpyTypes.enumerated().map { i, d in TensorSpec(name: "t_\(d.rawValue)", dtype: d, shape: [2, i + 1, 3]) }
        specs.append(TensorSpec(name: "scalar", dtype: .f32, shape: []))
        specs.append(TensorSpec(name: "t_BF16", dtype: .bf16, shape: [4, 4]))
        let writer = try SafetensorsWriter(path: path, tensors: specs, metadata: ["format": "pt", "ünïcode": "✓ \"q\""])
        for (i, s) in specs.enumerated() {
            var bytes = patternBytes(Int(s.checkedByteCount!), seed: UInt8(i))
            if s.dtype == .bool { bytes = bytes.map { $0 & 1 } }
            try writer.append(bytes)
        }
        try writer.commit()

        let script = Self.pattern + """
        import sys, json, numpy as np
        from safetensors import safe_open
        path, specs = sys.argv[1], json.loads(sys.argv[2])
        with safe_open(path, "numpy") as f:  # validates the whole header, BF16 included
            assert f.metadata() == {"format": "pt", "ünïcode": "✓ \\"q\\""}, f.metadata()
            assert sorted(f.keys()) == sorted(s[0] for s in specs), f.keys()
            for name, dtype, shape, seed in specs:
                sl = f.get_slice(name)
                assert sl.get_dtype() == dtype and list(sl.get_shape()) == shape, (name, sl.get_dtype(), sl.get_shape())
        for name, dtype, shape, seed in specs:
            if dtype == "BF16": continue
            with safe_open(path, "numpy") as f:
                a = f.get_tensor(name)
            expected = pattern(a.nbytes, seed)
            if dtype == "BOOL": expected = bytes(b & 1 for b in expected)
            assert list(a.shape) == shape, name
            assert a.tobytes() == expected, name
        print("ok")
        """
        let specJSON = "[" + specs.enumerated().map { i, s in
            "[\"\(s.name)\", \"\(s.dtype.rawValue)\", [\(s.shape.map(String.init).joined(separator: ","))], \(i)]"
        }.joined(separator: ",") + "]"
        let result = try Python.run(script, arguments: [path, specJSON])
        #expect(result.status == 0, "python said: \(result.output)")
        #expect(result.output.contains("ok"))
    }

    @Test func filesWrittenByPythonLoadHere() throws {
        let dir = try TemporaryDirectory("interop")
        let path = dir.path("python.safetensors")
        let script = """
        import sys, numpy as np
        from safetensors.numpy import save_file
        t = {
            "z.f32": np.arange(12, dtype=np.float32).reshape(3, 4) / 8,
            "a.f16": np.array([1.5, -2.0, 65504.0], dtype=np.float16),
            "m.i64": np.array([[-1, 2**62]], dtype=np.int64),
            "b.u8": np.arange(7, dtype=np.uint8),
            "c.bool": np.array([True, False, True]),
            "d.i8": np.array([-128, 127], dtype=np.int8),
            "e.f64": np.array([3.25], dtype=np.float64),
            "s": np.array(5.0, dtype=np.float32),
            "empty": np.zeros((0, 3), dtype=np.int32),
        }
        save_file(t, sys.argv[1], metadata={"written_by": "python"})
        """
        let result = try Python.run(script, arguments: [path])
        try #require(result.status == 0, "python said: \(result.output)")
        let reader = try SafetensorsReader(path: path)
        #expect(reader.metadata == ["written_by": "python"])
        #expect(reader.tensors.count == 9)
        #expect(try reader.floats(of: reader.tensor(named: "z.f32")) == (0..<12).map { Float($0) / 8 })
        #expect(try reader.tensor(named: "z.f32").shape == [3, 4])
        #expect(try reader.floats(of: reader.tensor(named: "a.f16")) == [1.5, -2, 65504])
        #expect(try reader.values(of: reader.tensor(named: "m.i64"), as: Int64.self) == [-1, 1 << 62])
        #expect(try reader.bytes(of: reader.tensor(named: "b.u8")) == Array(0..<7))
        #expect(try reader.bytes(of: reader.tensor(named: "c.bool")) == [1, 0, 1])
        #expect(try reader.values(of: reader.tensor(named: "d.i8"), as: Int8.self) == [-128, 127])
        #expect(try reader.floats(of: reader.tensor(named: "e.f64")) == [3.25])
        #expect(try reader.tensor(named: "s").shape == [])
        #expect(try reader.floats(of: reader.tensor(named: "s")) == [5])
        #expect(try reader.tensor(named: "empty").shape == [0, 3])
    }
}
