import Foundation
import Testing
@testable import FerryTensors

/// The abuse attempts of the safetensors project's own attack notes (huggingface/safetensors,
/// `attacks/README.md`, proposals 1–7), rebuilt byte for byte at test size. HostileHeaderTests covers
/// each rule one by one (proposal 2, a header far past the 100 MB limit, is its
/// `headerLengthAboveLimitOrPastTheFile`); these are the published payloads as a whole.
/// docs/reliability.md maps them.
@Suite struct HostileAttackNotesTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("attack-notes") }

    /// Proposal 1 (`safetensors_abuse_attempt_1.py`): a valid 2×2 F32 file whose first 8 bytes are
    /// rewritten to announce a 1000-byte header the file does not hold.
    @Test func attempt1HeaderLengthPastTheFileIsRefusedBeforeReading() throws {
        let path = dir.path("attempt1.safetensors")
        let w = try SafetensorsWriter(path: path, tensors: [("weight", .f32, [2, 2])])
        try w.append(contentsOf: [Float](repeating: 0, count: 4))
        try w.commit()
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let size = Int64(bytes.count)
        var n = UInt64(1000).littleEndian
        withUnsafeBytes(of: &n) { for i in 0..<8 { bytes[i] = $0[i] } }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: SafetensorsError.headerPastEnd(file: path, length: 1000, fileSize: size)) {
            _ = try SafetensorsReader(path: path)
        }
    }

    /// Proposals 2–4 (`safetensors_abuse_attempt_2.py`, `_3.py`): 100 000 tensors of 200×200 F32 all
    /// declared on the same bytes `[0, n)`: a small file that would expand to 16 GB of tensors. Refused
    /// as overlapping before any tensor is read; the header's JSON (about 9 MB) stays under the limit.
    @Test func attempt3ManyTensorsAliasingTheSameBytesAreRefused() throws {
        let n = 200 * 200 * 4
        var json = "{"
        json.reserveCapacity(100_000 * 80)
        for i in 0..<100_000 {
            if i > 0 { json += "," }
            json += "\"weight_\(i)\":{\"dtype\":\"F32\",\"shape\":[200,200],\"data_offsets\":[0,\(n)]}"
        }
        json += "}"
        let path = try dir.writeSafetensors("attempt3.safetensors", json: json, data: [UInt8](repeating: 0, count: n))
        do {
            _ = try SafetensorsReader(path: path)
            Issue.record("100 000 aliased tensors were accepted")
        } catch let error {
            guard case .overlappingOffsets = error else { Issue.record("expected overlappingOffsets, got \(error)"); return }
            #expect(error.description.contains(path))
        }
    }

    /// Proposal 3: negative offsets and offsets reversed are refused (a negative number is not a
    /// valid offset; `begin > end` is not a range).
    @Test func negativeAndReversedOffsetsAreRefused() throws {
        for offsets in ["[-8,0]", "[0,-8]", "[8,0]"] {
            let json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":\(offsets)}}"
            let path = try dir.writeSafetensors("neg-\(UUID().uuidString).safetensors", json: json, data: patternBytes(8))
            #expect(throws: SafetensorsError.self, "offsets \(offsets)") { _ = try SafetensorsReader(path: path) }
        }
    }

    /// Proposal 7 (JSON parser abuse): huge numbers, long escapes and numbers where strings belong.
    @Test func jsonParserAbuseIsRefused() throws {
        let cases = [
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e400],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}",
            "{\"" + String(repeating: "\\u0041", count: 50_000) + "\":1}",
            "{\"__metadata__\":{\"k\":" + String(repeating: "9", count: 10_000) + "}}",
        ]
        for json in cases {
            let path = try dir.writeSafetensors("json-\(UUID().uuidString).safetensors", json: json, data: patternBytes(8))
            #expect(throws: SafetensorsError.self, "\(json.prefix(60))") { _ = try SafetensorsReader(path: path) }
        }
    }
}
