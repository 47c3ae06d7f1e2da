import Foundation
import FerrySupport
import FerryTensors
@testable import FerryQuant

/// A fresh temporary directory, removed by the caller with `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "ferry-quant-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The golden files in a fixtures folder: the `*.safetensors` names without the extension, sorted.
func goldenNames(in folder: URL) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasSuffix(".safetensors") }.map { String($0.dropLast(".safetensors".count)) }.sorted()
}

/// Deterministic pseudo-random N(0, sigma) values (xorshift + Box–Muller), for tests.
func normalValues(_ n: Int, seed: UInt64, sigma: Float = 0.02) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func uniform() -> Double {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return (Double(state >> 11) + 0.5) / Double(1 << 53)
    }
    return (0..<n).map { _ in Float((-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())) * sigma }
}

/// Writes a model with the given tensors (raw little-endian bytes) to `path`.
func writeModel(_ path: String, _ tensors: [(TensorSpec, [UInt8])], metadata: [String: String] = [:]) throws {
    let writer = try SafetensorsWriter(path: path, tensors: tensors.map(\.0), metadata: metadata)
    for (_, bytes) in tensors { try writer.append(bytes) }
    try writer.commit()
}

/// The raw bytes of f32 values.
func bytes(of values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

/// The raw bytes of 16-bit values of `type`, converted from f32 (round to nearest even).
func bytes16(of values: [Float], as type: FloatType) -> [UInt8] {
    let bits = values.map { type == .f16 ? FloatConversion.halfBits(from: $0) : FloatConversion.bfloat16Bits(from: $0) }
    return bits.withUnsafeBytes { Array($0) }
}

/// Feeds a file into a sink in pieces of the given sizes (cycled), then finishes it.
func feed(file path: String, into sink: ByteSink, pieces: [Int]) throws {
    let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    var offset = 0, i = 0
    try data.withUnsafeBytes { raw in
        while offset < raw.count {
            let n = min(pieces[i % pieces.count], raw.count - offset)
            try sink.write(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)]))
            offset += n
            i += 1
        }
    }
    try sink.finish()
}
