import Foundation
import Testing
@testable import FerryTensors

@Suite struct RoundTripTests {
    @Test func everyDTypeRoundTripsThroughWriterAndReader() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("all.safetensors")
        // One tensor per dtype, with shapes of various ranks (scalar and empty included).
        var specs: [TensorSpec] = DType.allCases.enumerated().map { i, d in
            TensorSpec(name: "t_\(d.rawValue.lowercased())", dtype: d, shape: [i % 3 + 1, 5, 2])
        }
        specs.append(TensorSpec(name: "scalar", dtype: .f32, shape: []))
        specs.append(TensorSpec(name: "empty", dtype: .i64, shape: [3, 0]))
        let metadata = ["format": "pt", "quote\"and\\slash": "line\nbreak \u{1} é"]
        let writer = try SafetensorsWriter(path: path, tensors: specs, metadata: metadata)
        var expected: [String: [UInt8]] = [:]
        for (i, spec) in specs.enumerated() {
            let bytes = patternBytes(Int(spec.checkedByteCount!), seed: UInt8(i))
            expected[spec.name] = bytes
            // Cut appends off tensor boundaries to show they need not align.
            let half = bytes.count / 2
            try writer.append(Array(bytes[..<half]))
            try writer.append(Array(bytes[half...]))
        }
        try writer.commit()

        let reader = try SafetensorsReader(path: path)
        #expect(reader.metadata == metadata)
        #expect(reader.tensors.map(\.spec) == specs)
        #expect(reader.fileSize == reader.header.totalByteCount)
        #expect(reader.header.headerByteCount % 8 == 0)
        for t in reader.tensors {
            #expect(try reader.bytes(of: t) == expected[t.name])
        }
        #expect(try reader.tensor(named: "scalar").elementCount == 1)
        #expect(try reader.tensor(named: "empty").byteCount == 0)
        #expect(try reader.tensor(named: "t_bf16").dtype == .bf16)
    }

    @Test func headerEncodingIsTheLayoutPythonWrites() throws {
        let header = try SafetensorsHeader(tensors: [TensorSpec(name: "a", dtype: .f32, shape: [3]),
                                                     TensorSpec(name: "b", dtype: .bool, shape: [2, 2])],
                                           metadata: ["x": "y"])
        let bytes = header.encoded()
        let json = String(decoding: bytes[8...], as: UTF8.self)
        // The exact text Python's safetensors.numpy.save_file produced for the same tensors.
        #expect(json == #"{"__metadata__":{"x":"y"},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"BOOL","shape":[2,2],"data_offsets":[12,16]}}      "#)
        #expect(bytes.count == Int(header.headerByteCount))
        #expect(bytes.count % 8 == 0)
        #expect(bytes[0] == UInt8(bytes.count - 8) && bytes[1...7].allSatisfy { $0 == 0 })
        let reparsed = try SafetensorsHeader.parse(bytes)
        #expect(reparsed == header)
        #expect(header.totalByteCount == header.headerByteCount + 16)
    }

    @Test func rangesAndSlicesReadTheRightBytes() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("r.safetensors")
        let a = patternBytes(4 * 1000, seed: 3), b = patternBytes(2 * 77, seed: 9)
        let writer = try SafetensorsWriter(path: path, tensors: [("a", .f32, [10, 100]), ("b", .f16, [77])])
        try writer.append(a)
        try writer.append(b)
        try writer.commit()
        let reader = try SafetensorsReader(path: path)
        let ta = try reader.tensor(named: "a")
        var buffer = [UInt8](repeating: 0, count: 100)
        try buffer.withUnsafeMutableBytes { try reader.read(ta, byteRange: 400..<480, into: $0) }
        #expect(Array(buffer[..<80]) == Array(a[400..<480]))
        #expect(throws: SafetensorsError.self) {
            try buffer.withUnsafeMutableBytes { try reader.read(ta, byteRange: 3990..<4010, into: $0) }
        }
        #expect(throws: SafetensorsError.self) {
            try buffer.withUnsafeMutableBytes { try reader.read(ta, byteRange: 0..<200, into: $0) }
        }
        var collected: [UInt8] = []
        var ranges: [Range<Int64>] = []
        try reader.forEachSlice(of: ta, bufferSize: 1001) { range, bytes in
            ranges.append(range)
            collected += bytes
        }
        #expect(collected == a)
        #expect(ranges.first == 0..<1000)  // rounded down to whole f32 elements
        #expect(ranges.count == 4)
        // Whole-read limit protects callers from loading a big tensor by accident.
        #expect(throws: SafetensorsError.tensorTooLarge(file: path, tensor: "a", byteCount: 4000, limit: 100)) {
            _ = try reader.bytes(of: ta, limit: 100)
        }
        var raw = [UInt8](repeating: 0, count: 8)
        let n = try raw.withUnsafeMutableBytes { try reader.readFileBytes(at: 0, into: $0) }
        #expect(n == 8 && raw == Array(reader.header.encoded()[..<8]))
        #expect(throws: SafetensorsError.noSuchTensor(file: path, name: "zzz")) { _ = try reader.tensor(named: "zzz") }
    }

    @Test func floatsAndIntegerValuesDecode() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("v.safetensors")
        let values: [Float] = [0, -1.5, 3.25, 65504, 1e-3]
        let writer = try SafetensorsWriter(path: path, tensors: [("f32", .f32, [5]), ("f16", .f16, [5]),
                                                                  ("bf16", .bf16, [5]), ("f64", .f64, [5]),
                                                                  ("i64", .i64, [2])])
        try writer.append(contentsOf: values)
        try writer.append(contentsOf: values.map { FloatConversion.halfBits(from: $0) })
        try writer.append(contentsOf: values.map { FloatConversion.bfloat16Bits(from: $0) })
        try writer.append(contentsOf: values.map { Double($0) })
        try writer.append(contentsOf: [Int64(-7), Int64.max])
        try writer.commit()
        let reader = try SafetensorsReader(path: path)
        #expect(try reader.floats(of: reader.tensor(named: "f32")) == values)
        #expect(try reader.floats(of: reader.tensor(named: "f64")) == values)
        let half = try reader.floats(of: reader.tensor(named: "f16"))
        #expect(half[0...3] == values[0...3] && abs(half[4] - 1e-3) < 1e-6)
        let bf = try reader.floats(of: reader.tensor(named: "bf16"))
        #expect(bf[0...2] == values[0...2] && bf[3] == 65536 && abs(bf[4] - 1e-3) < 1e-5)
        #expect(try reader.values(of: reader.tensor(named: "i64"), as: Int64.self) == [-7, Int64.max])
        #expect(throws: SafetensorsError.self) { _ = try reader.floats(of: reader.tensor(named: "i64")) }
        #expect(throws: SafetensorsError.self) { _ = try reader.values(of: reader.tensor(named: "f32"), as: Int64.self) }
    }

    @Test func writerRefusesWrongByteCountsAndPublishesNothing() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("w.safetensors")
        let writer = try SafetensorsWriter(path: path, tensors: [("a", .f32, [4]), ("b", .u8, [3])])
        #expect(throws: SafetensorsError.tooManyBytes(file: path, expected: 19, got: 20)) {
            try writer.append(patternBytes(20))
        }
        try writer.append(patternBytes(16))
        #expect(writer.currentTensor?.name == "b")
        #expect(throws: SafetensorsError.incomplete(file: path, expected: 19, written: 16, tensor: "b")) {
            try writer.commit()
        }
        #expect(try dir.contents().isEmpty)  // no file, no temporary left over
        #expect(throws: SafetensorsError.writerClosed(file: path)) { try writer.append(patternBytes(1)) }

        let dropped = try SafetensorsWriter(path: path, tensors: [("a", .u8, [1])])
        try dropped.append([1])
        dropped.abort()
        #expect(try dir.contents().isEmpty)
    }

    @Test func writerRefusesBadSpecs() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("bad.safetensors")
        #expect(throws: SafetensorsError.self) { _ = try SafetensorsWriter(path: path, tensors: [("a", .f32, [2]), ("a", .f32, [1])]) }
        #expect(throws: SafetensorsError.self) { _ = try SafetensorsWriter(path: path, tensors: [("__metadata__", .f32, [2])]) }
        #expect(throws: SafetensorsError.self) { _ = try SafetensorsWriter(path: path, tensors: [("n", .f32, [2, -1])]) }
        #expect(throws: SafetensorsError.self) { _ = try SafetensorsWriter(path: path, tensors: [("o", .f64, [1 << 40, 1 << 30])]) }
        #expect(try dir.contents().isEmpty)
    }
}
