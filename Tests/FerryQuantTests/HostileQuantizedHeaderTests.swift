import Foundation
import Testing
import FerryTensors
@testable import FerryQuant

/// Writes a hand-made "quantized" file: an f32 tensor `w` of 100 values as nf4, with tweaks.
private func writeQuantized(_ path: String, entry: String?, codesBytes: Int = 50, absmaxCount: Int = 2,
                            absmaxFirst: Bool = true, version: String = "1") throws {
    var metadata = [QuantizedModelKeys.versionKey: version, QuantizedModelKeys.formatKey: "nf4"]
    if let entry { metadata["ferry.tensor.w"] = entry }
    let absmax = (TensorSpec(name: "w.absmax", dtype: .f32, shape: [absmaxCount]), bytes(of: [Float](repeating: 1, count: absmaxCount)))
    let codes = (TensorSpec(name: "w", dtype: .u8, shape: [codesBytes]), [UInt8](repeating: 0x7F, count: codesBytes))
    try writeModel(path, absmaxFirst ? [absmax, codes] : [codes, absmax], metadata: metadata)
}

private let goodEntry = #"{"absmax":"w.absmax","block_size":64,"format":"nf4","shape":[10,10],"source_dtype":"F32"}"#

@Test func wellFormedHandMadeFileRestores() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try writeQuantized(dir.file("q.safetensors"), entry: goodEntry)
    try ModelQuantizer.dequantize(input: dir.file("q.safetensors"), output: dir.file("r.safetensors"))
    let r = try SafetensorsReader(path: dir.file("r.safetensors"))
    #expect(r.tensors.map(\.spec) == [TensorSpec(name: "w", dtype: .f32, shape: [10, 10])])
    #expect(try r.floats(of: r.tensor(named: "w")).allSatisfy { $0 == 0 || $0 == QuantKernels.nf4Code[15] })
}

@Test(arguments: [
    (#"{"format":"nf4"}"#, 50, 2, true),                                                           // fields missing
    ("not json", 50, 2, true),
    (goodEntry.replacingOccurrences(of: "[10,10]", with: "[10,-10]"), 50, 2, true),                // negative shape
    (goodEntry.replacingOccurrences(of: "[10,10]", with: "[4294967296,4294967296]"), 50, 2, true), // overflow
    (goodEntry.replacingOccurrences(of: "64", with: "4096"), 50, 2, true),                         // wrong block size
    (goodEntry.replacingOccurrences(of: "F32", with: "I32"), 50, 2, true),                         // not a float source
    (goodEntry.replacingOccurrences(of: "w.absmax", with: "nope"), 50, 2, true),                   // missing absmax
    (goodEntry.replacingOccurrences(of: "w.absmax", with: "w"), 50, 2, true),                      // self as absmax
    (goodEntry, 49, 2, true),                                                                       // codes too short
    (goodEntry, 50, 3, true),                                                                       // absmax count
    (goodEntry, 50, 2, false),                                                                      // absmax after codes
])
func hostileEntriesAreRefusedBeforeWriting(entry: String, codes: Int, absmax: Int, absmaxFirst: Bool) throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try writeQuantized(dir.file("q.safetensors"), entry: entry, codesBytes: codes, absmaxCount: absmax, absmaxFirst: absmaxFirst)
    #expect(throws: QuantError.self) {
        try ModelQuantizer.dequantize(input: dir.file("q.safetensors"), output: dir.file("r.safetensors"))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["q.safetensors"])
}

@Test func unknownVersionAndGarbageAreRefused() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    try writeQuantized(dir.file("q.safetensors"), entry: goodEntry, version: "2")
    #expect(throws: QuantError.unsupportedVersion(file: dir.file("r.safetensors"), version: "2")) {
        try ModelQuantizer.dequantize(input: dir.file("q.safetensors"), output: dir.file("r.safetensors"))
    }
    let sink = DequantizingSink(destination: dir.file("r.safetensors"))
    let garbage: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3]
    #expect(throws: SafetensorsError.self) { try garbage.withUnsafeBytes { try sink.write($0) } }
    #expect(throws: QuantError.sinkClosed(file: dir.file("r.safetensors"))) { try sink.finish() }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["q.safetensors"])
}
