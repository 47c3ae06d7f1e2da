import Foundation
import Testing
@testable import FerryTensors

/// Every kind of hostile or broken header is refused with a typed error naming the file.
@Suite struct HostileHeaderTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("hostile") }

    /// Writes a file and returns the error opening it produces (nil when it opens).
    func refusal(json: String, data: [UInt8] = [], declaredLength: UInt64? = nil) throws -> SafetensorsError? {
        let path = try dir.writeSafetensors("f-\(UUID().uuidString).safetensors", json: json, data: data,
                                            declaredLength: declaredLength)
        do {
            _ = try SafetensorsReader(path: path)
            return nil
        } catch {
            #expect(error.description.contains(path), "the message names the file: \(error)")
            return error
        }
    }

    func entry(_ name: String, _ dtype: String = "F32", _ shape: String = "[2]", _ offsets: String = "[0,8]") -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
    }

    @Test func validFileOpens() throws {
        #expect(try refusal(json: "{\(entry("a"))}", data: patternBytes(8)) == nil)
    }

    @Test func tooShortFile() throws {
        let path = try dir.write("short.safetensors", [1, 2, 3])
        #expect(throws: SafetensorsError.fileTooSmall(file: path, size: 3)) { _ = try SafetensorsReader(path: path) }
        let empty = try dir.write("empty.safetensors", [])
        #expect(throws: SafetensorsError.fileTooSmall(file: empty, size: 0)) { _ = try SafetensorsReader(path: empty) }
    }

    @Test func headerLengthAboveLimitOrPastTheFile() throws {
        guard case .headerTooLarge(_, let length)? = try refusal(json: "{}", declaredLength: 100_000_001) else {
            Issue.record("expected headerTooLarge"); return
        }
        #expect(length == 100_000_001)
        guard case .headerTooLarge? = try refusal(json: "{}", declaredLength: UInt64.max) else {
            Issue.record("expected headerTooLarge for 2^64-1"); return
        }
        guard case .headerPastEnd(_, 1000, 18)? = try refusal(json: "{\"a\":1}", data: [0, 0, 0], declaredLength: 1000) else {
            Issue.record("expected headerPastEnd"); return
        }
        // A (sparse) 200 MB file announcing a 150 MB header: refused before anything is allocated.
        let path = dir.path("sparse.safetensors")
        var declared = UInt64(150_000_000).littleEndian
        try Data(bytes: &declared, count: 8).write(to: URL(fileURLWithPath: path))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 200_000_000)
        try handle.close()
        #expect(throws: SafetensorsError.headerTooLarge(file: path, length: 150_000_000)) { _ = try SafetensorsReader(path: path) }
    }

    @Test(arguments: [
        "{\"a\":", "{\"a\" 1}", "not json", "{\"a\":{\"dtype\":\"F32\"}} trailing", "{'a':1}",
        "[1,2]", "\"text\"", "{\"a\":tru}", "{\"a\":\"\u{1}\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}",
        "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}",
    ])
    func invalidJSONIsRefused(json: String) throws {
        guard case .invalidJSON? = try refusal(json: json) else {
            Issue.record("expected invalidJSON for \(json)"); return
        }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() throws {
        let path = dir.path("utf8.safetensors")
        var bytes: [UInt8] = [12, 0, 0, 0, 0, 0, 0, 0]
        bytes += Array("{\"".utf8) + [0xFF, 0xFE] + Array("\":\"x\"}   ".utf8).prefix(8)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: SafetensorsError.self) { _ = try SafetensorsReader(path: path) }
        let deep = "{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        guard case .invalidJSON(_, let reason)? = try refusal(json: deep) else {
            Issue.record("expected invalidJSON for deep nesting"); return
        }
        #expect(reason.contains("nesting"))
    }

    @Test func wrongFieldTypesAreRefused() throws {
        let cases = [
            "{\"a\":[1,2]}",
            "{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999]}}",
            "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}",
            "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}",
        ]
        for json in cases {
            guard case .invalidEntry(_, "a", _)? = try refusal(json: json, data: patternBytes(8)) else {
                Issue.record("expected invalidEntry for \(json)"); continue
            }
        }
    }

    @Test func unknownDTypeIsRefused() throws {
        guard case .unknownDType(_, "a", "F128")? = try refusal(json: "{\(entry("a", "F128"))}", data: patternBytes(8)) else {
            Issue.record("expected unknownDType"); return
        }
        guard case .unknownDType(_, "a", "f32")? = try refusal(json: "{\(entry("a", "f32"))}", data: patternBytes(8)) else {
            Issue.record("expected unknownDType for lower case"); return
        }
    }

    @Test func duplicateNamesAreRefused() throws {
        let json = "{\(entry("a")),\(entry("a", "F32", "[2]", "[8,16]"))}"
        #expect(try refusal(json: json, data: patternBytes(16)).map { if case .duplicateName(_, "a") = $0 { true } else { false } } == true)
        let meta = "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"},\(entry("a"))}"
        guard case .invalidMetadata(_, "k", _)? = try refusal(json: meta, data: patternBytes(8)) else {
            Issue.record("expected invalidMetadata for a duplicate metadata key"); return
        }
        let twoMeta = "{\"__metadata__\":{},\"__metadata__\":{},\(entry("a"))}"
        guard case .duplicateName(_, "__metadata__")? = try refusal(json: twoMeta, data: patternBytes(8)) else {
            Issue.record("expected duplicateName for two __metadata__"); return
        }
        // Escaped spellings of the same name are the same name.
        let escaped = "{\(entry("ab")),\(entry("a\\u0062", "F32", "[2]", "[8,16]"))}"
        guard case .duplicateName(_, "ab")? = try refusal(json: escaped, data: patternBytes(16)) else {
            Issue.record("expected duplicateName for an escaped duplicate"); return
        }
    }

    @Test func negativeAndOverflowingShapesAreRefused() throws {
        guard case .invalidShape(_, "a", _, let reason)? = try refusal(json: "{\(entry("a", "F32", "[-2]", "[0,8]"))}", data: patternBytes(8)) else {
            Issue.record("expected invalidShape for a negative dimension"); return
        }
        #expect(reason.contains("negative"))
        guard case .invalidShape? = try refusal(json: "{\(entry("a", "F32", "[4, -2, -1]", "[0,8]"))}", data: patternBytes(8)) else {
            Issue.record("expected invalidShape for two negative dimensions"); return
        }
        guard case .invalidShape? = try refusal(json: "{\(entry("a", "F32", "[18446744073709551616]", "[0,8]"))}", data: patternBytes(8)) else {
            Issue.record("expected invalidShape for a dimension above 2^64"); return
        }
        // The product overflows 64 bits although each dimension fits (and wraps to a plausible size).
        guard case .invalidShape? = try refusal(json: "{\(entry("a", "F32", "[4294967296, 4294967296, 2]", "[0,8]"))}", data: patternBytes(8)) else {
            Issue.record("expected invalidShape for an overflowing product"); return
        }
        // Elements fit but × dtype size overflows.
        guard case .invalidShape? = try refusal(json: "{\(entry("a", "F64", "[2305843009213693952]", "[0,8]"))}", data: patternBytes(8)) else {
            Issue.record("expected invalidShape for an overflowing byte count"); return
        }
    }

    @Test func sizeNotMatchingShapeIsRefused() throws {
        guard case .sizeMismatch(_, "a", 8, 12)? = try refusal(json: "{\(entry("a", "F32", "[2]", "[0,12]"))}", data: patternBytes(12)) else {
            Issue.record("expected sizeMismatch"); return
        }
        guard case .sizeMismatch(_, "a", 12, 8)? = try refusal(json: "{\(entry("a", "F16", "[2,3]", "[0,8]"))}", data: patternBytes(8)) else {
            Issue.record("expected sizeMismatch for F16"); return
        }
    }

    @Test func offsetsOutsideTheDataAreRefused() throws {
        guard case .offsetsOutsideData(_, "a", 8, 4)? = try refusal(json: "{\(entry("a"))}", data: patternBytes(4)) else {
            Issue.record("expected offsetsOutsideData"); return
        }
        let far = "{\(entry("a", "F32", "[2]", "[9223372036854775799,9223372036854775807]"))}"
        guard case .offsetsOutsideData? = try refusal(json: far, data: patternBytes(8)) else {
            Issue.record("expected offsetsOutsideData near 2^63"); return
        }
    }

    @Test func overlappingOffsetsAreRefused() throws {
        let json = "{\(entry("a", "F32", "[2]", "[0,8]")),\(entry("b", "F32", "[2]", "[4,12]"))}"
        guard case .overlappingOffsets(_, "a", "b")? = try refusal(json: json, data: patternBytes(12)) else {
            Issue.record("expected overlappingOffsets"); return
        }
        let same = "{\(entry("a", "F32", "[2]", "[0,8]")),\(entry("b", "F32", "[2]", "[0,8]"))}"
        guard case .overlappingOffsets? = try refusal(json: same, data: patternBytes(8)) else {
            Issue.record("expected overlappingOffsets for aliased tensors"); return
        }
        let inside = "{\(entry("a", "F32", "[4]", "[0,16]")),\(entry("e", "F32", "[0]", "[4,4]"))}"
        guard case .overlappingOffsets? = try refusal(json: inside, data: patternBytes(16)) else {
            Issue.record("expected overlappingOffsets for an empty tensor inside another"); return
        }
    }

    @Test func gapsAndTrailingBytesAreRefused() throws {
        let gap = "{\(entry("a", "F32", "[2]", "[0,8]")),\(entry("b", "F32", "[2]", "[12,20]"))}"
        guard case .gapInData(_, "a", "b", 8, 12)? = try refusal(json: gap, data: patternBytes(20)) else {
            Issue.record("expected gapInData"); return
        }
        guard case .gapInData(_, nil, "a", 0, 4)? = try refusal(json: "{\(entry("a", "F32", "[2]", "[4,12]"))}", data: patternBytes(12)) else {
            Issue.record("expected gapInData at the start"); return
        }
        guard case .trailingData(_, 8, 10)? = try refusal(json: "{\(entry("a"))}", data: patternBytes(10)) else {
            Issue.record("expected trailingData"); return
        }
    }

    @Test func nonStringMetadataIsRefused() throws {
        for meta in ["{\"n\":1}", "{\"n\":{\"x\":\"y\"}}", "{\"n\":[\"a\"]}", "{\"n\":null}", "[\"a\"]", "\"text\"", "7"] {
            let json = "{\"__metadata__\":\(meta),\(entry("a"))}"
            guard case .invalidMetadata? = try refusal(json: json, data: patternBytes(8)) else {
                Issue.record("expected invalidMetadata for \(meta)"); continue
            }
        }
        // A null __metadata__ is accepted as "no metadata", as the reference implementation does.
        #expect(try refusal(json: "{\"__metadata__\":null,\(entry("a"))}", data: patternBytes(8)) == nil)
    }

    @Test func truncationAfterOpenIsReportedOnRead() throws {
        let path = dir.path("t.safetensors")
        let w = try SafetensorsWriter(path: path, tensors: [("a", .u8, [100])])
        try w.append(patternBytes(100))
        try w.commit()
        let reader = try SafetensorsReader(path: path)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(reader.header.dataStart + 50))
        try handle.close()
        #expect(throws: SafetensorsError.self) { _ = try reader.bytes(of: reader.tensor(named: "a")) }
    }

    /// Random corruptions of a valid file are either read or refused with a typed error, never a crash.
    @Test func randomCorruptionNeverCrashes() throws {
        let path = dir.path("good.safetensors")
        let w = try SafetensorsWriter(path: path, tensors: [("a", .f32, [3, 2]), ("b", .i16, [5]), ("c", .bool, [])],
                                      metadata: ["k": "v"])
        try w.append(patternBytes(24 + 10 + 1))
        try w.commit()
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var rng = SystemRandomNumberGenerator()
        var refused = 0
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes.removeLast(Int.random(in: 0..<20, using: &rng)) }
            do {
                _ = try SafetensorsHeader.parse(bytes, fileSize: Int64(bytes.count), source: "fuzz")
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0)
    }
}
