import Foundation
import Testing
import FerryTensors
@testable import FerryQuant

/// The quantized-file side of nf4-dq and fp4-dq: layout, streaming, hostile headers, sizes.

@Test func doubleQuantizedFormatsParseAndDescribeTheirLayout() {
    #expect(QuantFormat(name: "nf4-dq") == .nf4dq && QuantFormat(name: "NF4_DQ") == .nf4dq && QuantFormat(name: "fp4dq") == .fp4dq)
    #expect(QuantFormat.nf4dq.codesFormat == .nf4 && QuantFormat.fp4dq.codesFormat == .fp4)
    #expect(QuantFormat.nf4dq.payloadByteCount(elements: 101) == 51)
    #expect(QuantFormat.nf4dq.blockCount(elements: 64 * 257) == 257)
    #expect(QuantFormat.nf4dq.absmaxGroupCount(elements: 64 * 257) == 2)
    #expect(QuantFormat.nf4.absmaxGroupCount(elements: 64 * 257) == 0)
}

@Test func quantizedFileNamesTheThreeAbsmaxTensorsBeforeTheCodes() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let model = dir.file("m.safetensors"), q = dir.file("q.safetensors")
    try writeModel(model, [(TensorSpec(name: "w", dtype: .f32, shape: [100, 200]), bytes(of: normalValues(20_000, seed: 3)))])
    let summary = try ModelQuantizer.quantize(input: model, output: q, format: .nf4dq)
    let file = try SafetensorsReader(path: q)
    #expect(file.tensors.map(\.name) == ["w.absmax_q", "w.absmax2", "w.absmax_offset", "w"])
    #expect(file.tensors.map(\.spec.dtype) == [.u8, .f32, .f32, .u8])
    #expect(file.tensors.map(\.spec.shape) == [[313], [2], [1], [10_000]])
    #expect(file.metadata["ferry.tensor.w"]
        == #"{"absmax":"w.absmax_q","absmax2":"w.absmax2","absmax_block_size":256,"absmax_offset":"w.absmax_offset","block_size":64,"format":"nf4-dq","shape":[100,200],"source_dtype":"F32"}"#)
    #expect(summary.metaByteCount == file.header.headerByteCount + 313 + 8 + 4)
    #expect(summary.payloadByteCount == 10_000)
}

@Test func restoringAcrossManyStagingBuffersMatchesTheCodec() throws {
    // More than one 1 MiB staging buffer of codes, so absmax is restored group by group from a later block.
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let n = (1 << 21) * 2 + 4_999
    let values = normalValues(n, seed: 21, sigma: 0.05)
    let model = dir.file("m.safetensors"), q = dir.file("q.safetensors"), r = dir.file("r.safetensors")
    try writeModel(model, [(TensorSpec(name: "big", dtype: .f32, shape: [n]), bytes(of: values))])
    try ModelQuantizer.quantize(input: model, output: q, format: .fp4dq, bufferSize: 1 << 16)
    try ModelQuantizer.dequantize(input: q, output: r, bufferSize: 12_345)
    let restored = try SafetensorsReader(path: r)
    let expected = QuantCodec.decode(QuantCodec.encode(values, format: .fp4dq))
    #expect(try restored.floats(of: restored.tensor(named: "big")) == expected)
}

@Test func nonFiniteBlocksStayOutOfTheOffset() {
    // bitsandbytes' mean would make the whole tensor NaN; ferry leaves NaN/inf blocks out of the offset.
    var values = normalValues(64 * 600, seed: 5)
    values[70] = .nan                                   // block 1 (group 0)
    values[64 * 300] = .infinity                        // block 300 (group 1)
    let q = QuantCodec.encode(values, format: .nf4dq)
    var finite = normalValues(64 * 600, seed: 5)
    finite[70] = 0
    finite[64 * 300] = 0
    let absmax = QuantCodec.encode(finite, format: .nf4).absmax
    let kept = absmax.enumerated().filter { $0.offset != 1 && $0.offset != 300 }.map { Double($0.element) }
    #expect(q.doubleQuantized!.offset == Float(Float(kept.reduce(0, +)) / Float(kept.count)))
    let decoded = QuantCodec.decode(q)
    #expect(decoded[(64 * 512)...].allSatisfy { $0.isFinite })   // group 2 is untouched by the NaN and the inf
    #expect(decoded[128..<(64 * 256)].allSatisfy { $0.isFinite })  // so are the other blocks of group 0
}

@Test func llamaShapedModelIsAtMost12Point95PercentOfF32InNf4DQ() throws {
    // The sizes follow from the layout alone (the header of `ferry model synth --like llama-3.2-1b`).
    let model = try #require(SyntheticModel.named("llama-3.2-1b"))
    let header = try SafetensorsHeader(tensors: model.tensors.map(\.spec), metadata: [:])
    func ratio(_ format: QuantFormat) throws -> Double {
        let layout = try QuantizedLayout.forQuantizing(header, format: format, file: "llama")
        return Double(layout.header.totalByteCount) / Double(header.dataByteCount)
    }
    let nf4dq = try ratio(.nf4dq), fp4dq = try ratio(.fp4dq), nf4 = try ratio(.nf4)
    #expect(nf4dq <= 0.1295)
    #expect(fp4dq <= 0.1295)
    #expect(abs(nf4 - 0.1406) < 0.0005)   // NVFlare's paper: 14.06 %
}

/// A hand-made nf4-dq file: `w` of 100 values (2 blocks, 1 group), with tweaks.
private func writeDoubleQuantized(_ path: String, entry: String, codes: Int = 50, absmaxQ: Int = 2,
                                  scales: Int = 1, offsetFirst: Bool = true) throws {
    let metadata = [QuantizedModelKeys.versionKey: "1", QuantizedModelKeys.formatKey: "nf4-dq", "ferry.tensor.w": entry]
    let aq = (TensorSpec(name: "w.absmax_q", dtype: .u8, shape: [absmaxQ]), [UInt8](repeating: 255, count: absmaxQ))
    let a2 = (TensorSpec(name: "w.absmax2", dtype: .f32, shape: [scales]), bytes(of: [Float](repeating: 0.5, count: scales)))
    let off = (TensorSpec(name: "w.absmax_offset", dtype: .f32, shape: [1]), bytes(of: [0.25]))
    let w = (TensorSpec(name: "w", dtype: .u8, shape: [codes]), [UInt8](repeating: 0xF7, count: codes))
    try writeModel(path, offsetFirst ? [aq, a2, off, w] : [aq, a2, w, off], metadata: metadata)
}

private let goodDQEntry = #"{"absmax":"w.absmax_q","absmax2":"w.absmax2","absmax_block_size":256,"absmax_offset":"w.absmax_offset","block_size":64,"format":"nf4-dq","shape":[10,10],"source_dtype":"F32"}"#

@Test func handMadeDoubleQuantizedFileRestores() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try writeDoubleQuantized(dir.file("q.safetensors"), entry: goodDQEntry)
    try ModelQuantizer.dequantize(input: dir.file("q.safetensors"), output: dir.file("r.safetensors"))
    let r = try SafetensorsReader(path: dir.file("r.safetensors"))
    // absmax = 1.0 * 0.5 + 0.25; nibbles 15 (1.0) and 7 (0.0).
    let values = try r.floats(of: r.tensor(named: "w"))
    #expect(values.count == 100 && values.enumerated().allSatisfy { $0.element == ($0.offset % 2 == 0 ? 0.75 : 0) })
}

@Test(arguments: [
    (goodDQEntry.replacingOccurrences(of: #""absmax_block_size":256,"#, with: ""), 50, 2, 1, true),     // group size missing
    (goodDQEntry.replacingOccurrences(of: "256", with: "4096"), 50, 2, 1, true),                        // wrong group size
    (goodDQEntry.replacingOccurrences(of: #""absmax2":"w.absmax2","#, with: ""), 50, 2, 1, true),       // scales missing
    (goodDQEntry.replacingOccurrences(of: "w.absmax_offset", with: "w.absmax2"), 50, 2, 1, true),       // shared tensor
    (goodDQEntry.replacingOccurrences(of: "nf4-dq", with: "nf4"), 50, 2, 1, true),                      // dq fields on nf4
    (goodDQEntry, 50, 3, 1, true),                                                                      // absmax_q count
    (goodDQEntry, 50, 2, 2, true),                                                                      // scales count
    (goodDQEntry, 50, 2, 1, false),                                                                     // offset after codes
])
func hostileDoubleQuantizedEntriesAreRefused(entry: String, codes: Int, absmaxQ: Int, scales: Int, offsetFirst: Bool) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try writeDoubleQuantized(dir.file("q.safetensors"), entry: entry, codes: codes, absmaxQ: absmaxQ, scales: scales,
                             offsetFirst: offsetFirst)
    #expect(throws: QuantError.self) {
        try ModelQuantizer.dequantize(input: dir.file("q.safetensors"), output: dir.file("r.safetensors"))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["q.safetensors"])
}
