import Foundation
import Testing
@testable import FerryTensors

/// Files written by Python's safetensors 0.8.0 (the shared golden set) load here.
@Suite struct GoldenFixtureTests {
    static let files = ["castedges__fp16.safetensors", "castedges__bf16.safetensors",
                        "normal65__nf4.safetensors", "codebooks.safetensors"]

    /// numpy dtype names as the manifest spells them.
    static let numpyNames: [String: DType] = [
        "float32": .f32, "float16": .f16, "float64": .f64, "uint8": .u8, "uint16": .u16,
        "int64": .i64, "int32": .i32, "int16": .i16, "int8": .i8, "bool": .bool,
    ]

    static func manifest() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: try fixturePath("golden-manifest.json")))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(root["files"] as? [String: Any])
    }

    @Test(arguments: files)
    func tensorsMatchTheManifest(file: String) throws {
        let entry = try #require(try Self.manifest()[file] as? [String: Any])
        let expected = try #require(entry["tensors"] as? [String: [Any]])
        let reader = try SafetensorsReader(path: try fixturePath(file))
        #expect(Set(reader.tensors.map(\.name)) == Set(expected.keys))
        for t in reader.tensors {
            let spec = try #require(expected[t.name])
            #expect(Self.numpyNames[spec[0] as? String ?? ""] == t.dtype, "\(file): \(t.name) dtype")
            #expect((spec[1] as? [Int]) == t.shape, "\(file): \(t.name) shape")
        }
        #expect(reader.metadata["version_safetensors"] == "0.8.0")
    }

    @Test func fp16CastValuesAgree() throws {
        let reader = try SafetensorsReader(path: try fixturePath("castedges__fp16.safetensors"))
        let quantized = try reader.floats(of: reader.tensor(named: "quantized"))
        let dequantized = try reader.floats(of: reader.tensor(named: "dequantized"))
        let input = try reader.floats(of: reader.tensor(named: "input"))
        #expect(quantized.count == 31)
        // dequantized = float16 → float32, exact: NaN-aware bitwise comparison.
        #expect(zip(quantized, dequantized).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
        // Our own f32 → f16 rounding reproduces torch's for the clamped inputs.
        let clamped = input.map { $0.isNaN ? $0 : min(max($0, -65504), 65504) }
        let ours = clamped.map { FloatConversion.float(fromHalf: FloatConversion.halfBits(from: $0)) }
        #expect(zip(ours, dequantized).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
    }

    @Test func bf16CastValuesAgree() throws {
        let reader = try SafetensorsReader(path: try fixturePath("castedges__bf16.safetensors"))
        let bits = try reader.values(of: reader.tensor(named: "quantized"), as: UInt16.self)
        let dequantized = try reader.floats(of: reader.tensor(named: "dequantized"))
        let input = try reader.floats(of: reader.tensor(named: "input"))
        #expect(bits.map(FloatConversion.float(fromBFloat16:)).map(\.bitPattern) == dequantized.map(\.bitPattern))
        let ours = input.map(FloatConversion.bfloat16Bits(from:))
        #expect(zip(ours, bits).allSatisfy { $0 == $1 || (FloatConversion.float(fromBFloat16: $0).isNaN && FloatConversion.float(fromBFloat16: $1).isNaN) })
    }

    @Test func nf4CodesDequantizeWithTheCodebook() throws {
        let books = try SafetensorsReader(path: try fixturePath("codebooks.safetensors"))
        let nf4 = try books.floats(of: books.tensor(named: "nf4_code"))
        #expect(nf4.count == 16 && nf4[0] == -1 && nf4[7] == 0 && nf4[15] == 1)
        let order = try books.values(of: books.tensor(named: "nf4_sorted_order"), as: Int64.self)
        #expect(order.sorted() == Array(0..<16))
        let dynamic = try books.floats(of: books.tensor(named: "dynamic_map"))
        #expect(dynamic.count == 256 && dynamic == dynamic.sorted() && dynamic.last == 1)
        #expect(try books.tensor(named: "cpu8_lut65536").byteCount == 65536)

        let reader = try SafetensorsReader(path: try fixturePath("normal65__nf4.safetensors"))
        let codes = try reader.bytes(of: reader.tensor(named: "codes"))
        let absmax = try reader.floats(of: reader.tensor(named: "absmax"))
        let dequantized = try reader.floats(of: reader.tensor(named: "dequantized"))
        #expect(dequantized.count == 65 && codes.count == 33 && absmax.count == 2)
        for i in 0..<65 {
            let byte = codes[i / 2]
            let nibble = i % 2 == 0 ? byte >> 4 : byte & 0xF
            #expect(nf4[Int(nibble)] * absmax[i / 64] == dequantized[i], "element \(i)")
        }
    }
}
