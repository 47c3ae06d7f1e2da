import Foundation
@testable import FerryTensors

/// A temporary directory removed when the value is dropped.
final class TemporaryDirectory {
    let url: URL

    init(_ label: String = "tensors") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes raw bytes to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// Writes a safetensors-like file: an 8-byte length (the JSON's, unless overridden), the JSON, the data.
    @discardableResult
    func writeSafetensors(_ name: String, json: String, data: [UInt8], declaredLength: UInt64? = nil) throws -> String {
        let jsonBytes = Array(json.utf8)
        var length = (declaredLength ?? UInt64(jsonBytes.count)).littleEndian
        var bytes = withUnsafeBytes(of: &length) { Array($0) }
        bytes += jsonBytes
        bytes += data
        return try write(name, bytes)
    }

    /// The names of the files in the directory.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }
}

/// Deterministic test bytes.
func patternBytes(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 7) }
}

/// The path of a fixture file copied into the test bundle.
func fixturePath(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw FixtureMissing(name: name)
    }
    return url.path
}

struct FixtureMissing: Error, CustomStringConvertible {
    var name: String
    var description: String { "fixture \(name) is missing from the test bundle" }
}
