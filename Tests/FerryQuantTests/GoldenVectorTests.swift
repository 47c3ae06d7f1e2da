import Foundation
import Testing
import FerryTensors
@testable import FerryQuant

/// The golden files copied from ../shared/golden (bitsandbytes 0.50.2 on the CPU); see Fixtures/README.md.
private let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

private let goldenFiles = goldenNames(in: fixtures)

/// One golden file: its case, format and tensors.
private struct Golden {
    let name: String
    let format: QuantFormat
    let sourceType: FloatType
    let reader: SafetensorsReader

    init(_ name: String) throws {
        self.name = name
        let parts = name.components(separatedBy: "__")
        format = QuantFormat(rawValue: parts[1])!
        sourceType = parts[0].hasSuffix("-srcfp16") ? .f16 : parts[0].hasSuffix("-srcbf16") ? .bf16 : .f32
        reader = try SafetensorsReader(path: fixtures.appendingPathComponent(name + ".safetensors").path)
    }

    func floats(_ tensor: String) throws -> [Float] { try reader.floats(of: reader.tensor(named: tensor)) }
    func bytes(_ tensor: String) throws -> [UInt8] { try reader.bytes(of: reader.tensor(named: tensor)) }

    /// The input as raw values of the source type (the golden input is the exact f32 widening).
    func sourceBytes() throws -> [UInt8] {
        let input = try floats("input")
        return sourceType == .f32 ? FerryQuantTests.bytes(of: input) : bytes16(of: input, as: sourceType)
    }

    /// Restored values widened to f32, as the golden `dequantized` stores them.
    func widen(_ raw: [UInt8]) -> [Float] {
        raw.withUnsafeBytes { FloatConversion.decode(raw: $0, dtype: sourceType.dtype) }
    }
}

/// Bit patterns, with every NaN the same.
private func bits(_ values: [Float]) -> [UInt32] { values.map { $0.isNaN ? 0x7FC0_0000 : $0.bitPattern } }
/// 16-bit patterns, with every NaN the same.
private func bits16(_ raw: [UInt8], type: FloatType) -> [UInt16] {
    raw.withUnsafeBytes { r in
        (0..<(raw.count / 2)).map { i in
            let v = r.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
            let isNaN = (v & 0x7FFF) > (type == .f16 ? 0x7C00 : 0x7F80)
            return isNaN ? 0x7FFF : v
        }
    }
}

@Test func goldenFixturesArePresent() {
    #expect(goldenFiles.count >= 20)
    #expect(Set(goldenFiles.map { $0.components(separatedBy: "__")[1] }) == Set(QuantFormat.allCases.filter { !$0.isDoubleQuantized }.map(\.rawValue)))  // dq: DoubleQuantGoldenTests
}

@Test(arguments: goldenFiles)
func codecMatchesGoldenVectorsBitForBit(name: String) throws {
    try expectCodecMatchesGolden(name)
}

extension KernelLevelTests {
    /// The golden vectors at every kernel level this CPU runs, the portable scalar C first: the
    /// path of CPUs without AVX2 (ARM, older x86) is checked against bitsandbytes, not only
    /// against the x86 kernels.
    @Test func everyKernelLevelMatchesTheGoldenVectors() throws {
        defer { QuantKernels.setMaximumLevel(nil) }
        #expect(QuantKernels.availableLevels.first == .scalar)
        for level in QuantKernels.availableLevels {
            QuantKernels.setMaximumLevel(level)
            #expect(QuantKernels.activeLevel == level)
            for name in goldenFiles { try expectCodecMatchesGolden(name, level: level) }
        }
    }
}

/// Encodes a golden file's input and decodes its stored codes: both bit for bit as bitsandbytes.
private func expectCodecMatchesGolden(_ name: String, level: QuantKernels.Level? = nil) throws {
    let at = level.map { " (\($0.name) kernels)" } ?? ""
    let g = try Golden(name)
    let source = try g.sourceBytes()
    let ours = source.withUnsafeBytes { QuantCodec.encode(raw: $0, type: g.sourceType, format: g.format) }
    if g.format.isBlockwise {
        #expect(ours.payload == (try g.bytes("codes")), "\(name): codes\(at)")
        #expect(bits(ours.absmax) == bits(try g.floats("absmax")), "\(name): absmax\(at)")
        // Decoding the golden codes and absmax gives the golden values exactly.
        let given = QuantizedValues(format: g.format, sourceType: g.sourceType, count: ours.count,
                                    payload: try g.bytes("codes"), absmax: try g.floats("absmax"))
        #expect(bits(g.widen(QuantCodec.decodeRaw(given))) == bits(try g.floats("dequantized")), "\(name): dequantized\(at)")
    } else {
        let stored = try g.bytes("quantized")
        let type: FloatType = g.format == .fp16 ? .f16 : .bf16
        #expect(bits16(ours.payload, type: type) == bits16(stored, type: type), "\(name): quantized\(at)")
        let given = QuantizedValues(format: g.format, sourceType: .f32, count: ours.count, payload: stored, absmax: [])
        #expect(bits(QuantCodec.decode(given)) == bits(try g.floats("dequantized")), "\(name): dequantized\(at)")
    }
}

@Test(arguments: goldenFiles.filter { !$0.hasPrefix("specials") })
func quantizedFileMatchesGoldenVectors(name: String) throws {
    let g = try Golden(name)
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let model = dir.file("m.safetensors"), q = dir.file("q.safetensors"), r = dir.file("r.safetensors")
    let shape = try g.reader.tensor(named: "input").shape     // 2-D for mat128x96: blocks run over the flat data
    try writeModel(model, [(TensorSpec(name: "x", dtype: g.sourceType.dtype, shape: shape), try g.sourceBytes())])
    guard QuantizedLayout.quantizes(g.sourceType.dtype, with: g.format) else { return }
    try ModelQuantizer.quantize(input: model, output: q, format: g.format, bufferSize: 4096 * 4)
    let file = try SafetensorsReader(path: q)
    if g.format.isBlockwise {
        #expect(try file.bytes(of: file.tensor(named: "x")) == (try g.bytes("codes")))
        #expect(bits(try file.floats(of: file.tensor(named: "x.absmax"))) == bits(try g.floats("absmax")))
    } else {
        let type: FloatType = g.format == .fp16 ? .f16 : .bf16
        #expect(bits16(try file.bytes(of: file.tensor(named: "x")), type: type) == bits16(try g.bytes("quantized"), type: type))
    }
    try ModelQuantizer.dequantize(input: q, output: r)
    let restored = try SafetensorsReader(path: r)
    #expect(try restored.tensor(named: "x").shape == shape)
    #expect(bits(g.widen(try restored.bytes(of: restored.tensor(named: "x")))) == bits(try g.floats("dequantized")))
}
