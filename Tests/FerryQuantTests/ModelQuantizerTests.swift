import Foundation
import Testing
import FerrySupport
import FerryTensors
@testable import FerryQuant

/// A small model mixing shapes, partial blocks, 16-bit sources and non-float tensors.
private func writeMixedModel(_ path: String) throws -> [(TensorSpec, [UInt8])] {
    let w = normalValues(70 * 130, seed: 1)            // 9100: partial 8-bit and 4-bit tail blocks
    let b = normalValues(65, seed: 2)                   // odd count: one pad nibble
    let h = normalValues(4097, seed: 3)
    let steps: [Int64] = [7, -1]
    let tensors: [(TensorSpec, [UInt8])] = [
        (TensorSpec(name: "layer.weight", dtype: .f32, shape: [70, 130]), bytes(of: w)),
        (TensorSpec(name: "layer.bias", dtype: .f32, shape: [65]), bytes(of: b)),
        (TensorSpec(name: "half", dtype: .f16, shape: [4097]), bytes16(of: h, as: .f16)),
        (TensorSpec(name: "brain", dtype: .bf16, shape: [1, 4097]), bytes16(of: h, as: .bf16)),
        (TensorSpec(name: "steps", dtype: .i64, shape: [2]), steps.withUnsafeBytes { Array($0) }),
        (TensorSpec(name: "empty", dtype: .f32, shape: [0, 3]), []),
        (TensorSpec(name: "scalar", dtype: .f32, shape: []), bytes(of: [0.5])),
    ]
    try writeModel(path, tensors, metadata: ["format": "pt"])
    return tensors
}

@Test(arguments: QuantFormat.allCases)
func quantizeThenDequantizeRestoresDTypesShapesAndMetadata(format: QuantFormat) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let model = dir.file("m.safetensors"), q = dir.file("q.safetensors"), r = dir.file("r.safetensors")
    let tensors = try writeMixedModel(model)
    let summary = try ModelQuantizer.quantize(input: model, output: q, format: format, bufferSize: 8192)
    #expect(summary.fileByteCount == (try FileManager.default.attributesOfItem(atPath: q)[.size] as? Int).map(Int64.init))
    let quantized = try SafetensorsReader(path: q)
    #expect(quantized.metadata[QuantizedModelKeys.versionKey] == "1")
    #expect(quantized.metadata["format"] == "pt")
    try ModelQuantizer.dequantize(input: q, output: r, bufferSize: 777)
    let restored = try SafetensorsReader(path: r)
    #expect(restored.tensors.map(\.spec) == tensors.map(\.0))
    #expect(restored.metadata == ["format": "pt"])
    let steps = try restored.values(of: restored.tensor(named: "steps"), as: Int64.self)
    #expect(steps == [7, -1])
    // The restored values equal the codec's own decode of the original values.
    let original = try SafetensorsReader(path: model)
    for t in original.tensors where QuantizedLayout.quantizes(t.dtype, with: format) {
        let raw = try original.bytes(of: t)
        let expected = raw.withUnsafeBytes { QuantCodec.decodeRaw(QuantCodec.encode(raw: $0, type: FloatType(t.dtype)!, format: format)) }
        #expect(try restored.bytes(of: restored.tensor(named: t.name)) == expected, "\(t.name)")
    }
}

@Test(arguments: [QuantFormat.blockwise8, .nf4, .fp16, .nf4dq])
func sourceBytesDoNotDependOnBufferSizeAndMatchTheHeader(format: QuantFormat) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let model = dir.file("m.safetensors")
    _ = try writeMixedModel(model)
    var outputs: [[UInt8]] = []
    for (bufferSize, readSize) in [(1, 3), (4096 * 4, 100_000), (1 << 22, 5)] {
        let source = try QuantizingSource(modelPath: model, format: format, bufferSize: bufferSize)
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: readSize)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        #expect(Int64(out.count) == source.expectedByteCount)
        #expect(Array(out[0..<Int(source.header.headerByteCount)]) == source.header.encoded())
        outputs.append(out)
    }
    #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
}

@Test func sinkAcceptsPiecesOfAnySize() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let model = dir.file("m.safetensors"), q = dir.file("q.safetensors")
    _ = try writeMixedModel(model)
    try ModelQuantizer.quantize(input: model, output: q, format: .nf4)
    try ModelQuantizer.dequantize(input: q, output: dir.file("whole.safetensors"), bufferSize: 1 << 24)
    let whole = try Data(contentsOf: URL(fileURLWithPath: dir.file("whole.safetensors")))
    for pieces in [[1], [3, 1, 7], [4095, 2], [65_537]] {
        let out = dir.file("r\(pieces[0]).safetensors")
        try feed(file: q, into: DequantizingSink(destination: out), pieces: pieces)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == whole)
    }
}

@Test func truncatedOrOverlongStreamsPublishNothing() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let model = dir.file("m.safetensors"), q = dir.file("q.safetensors"), out = dir.file("r.safetensors")
    _ = try writeMixedModel(model)
    try ModelQuantizer.quantize(input: model, output: q, format: .fp4)
    var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: q)))
    let short = DequantizingSink(destination: out)
    try data.dropLast(10).withUnsafeBytes { try short.write($0) }
    #expect(throws: QuantError.self) { try short.finish() }
    data.append(0)
    let long = DequantizingSink(destination: out)
    #expect(throws: QuantError.extraBytes(file: out, expected: Int64(data.count - 1))) {
        try data.withUnsafeBytes { try long.write($0) }
    }
    #expect(!FileManager.default.fileExists(atPath: out))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["m.safetensors", "q.safetensors"])
}

@Test func plainModelsAndDoubleQuantizationAreRefused() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let model = dir.file("m.safetensors"), q = dir.file("q.safetensors")
    _ = try writeMixedModel(model)
    #expect(throws: QuantError.notQuantized(file: dir.file("r.safetensors"))) {
        try ModelQuantizer.dequantize(input: model, output: dir.file("r.safetensors"))
    }
    try ModelQuantizer.quantize(input: model, output: q, format: .blockwise8)
    #expect(throws: QuantError.alreadyQuantized(file: q)) {
        try ModelQuantizer.quantize(input: q, output: dir.file("qq.safetensors"), format: .nf4)
    }
}

@Test func absmaxNameCollisionIsRefused() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let model = dir.file("m.safetensors")
    try writeModel(model, [(TensorSpec(name: "w", dtype: .f32, shape: [1]), bytes(of: [1])),
                           (TensorSpec(name: "w.absmax", dtype: .f32, shape: [1]), bytes(of: [2]))])
    #expect(throws: QuantError.nameCollision(file: model, name: "w.absmax")) {
        try QuantizingSource(modelPath: model, format: .nf4)
    }
}

@Test func errorStatisticsMatchTheRestoredFile() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let model = dir.file("m.safetensors"), q = dir.file("q.safetensors")
    let values = normalValues(10_000, seed: 9)
    try writeModel(model, [(TensorSpec(name: "w", dtype: .f32, shape: [100, 100]), bytes(of: values))])
    try ModelQuantizer.quantize(input: model, output: q, format: .nf4)
    let stats = try ModelQuantizer.measureError(original: model, quantized: q)
    let decoded = QuantCodec.decode(QuantCodec.encode(values, format: .nf4))
    let errors = zip(values, decoded).map { Double(abs($0 - $1)) }
    #expect(stats.count == 10_000)
    #expect(stats.max == errors.max())
    #expect(abs(stats.mean - errors.reduce(0, +) / 10_000) < 1e-12)
}
