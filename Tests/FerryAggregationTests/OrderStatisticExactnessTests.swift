import Foundation
import Testing
import FerryAggregation
import FerryTensors

/// The median and the trimmed mean against the scalar reference they replaced (sort each element's
/// values with a stable insertion sort, then take the middle or sum the kept values in order): the
/// sorting networks must give the same bits, NaN, ±0, ±inf, ties, subnormals and odd sizes included.
private enum Oracle {
    static func combine(_ column: [Double], rule: AggregatorRule) -> Double {
        var v = column
        var i = 1
        while i < v.count {
            let x = v[i]
            var j = i - 1
            while j >= 0, v[j] > x {
                v[j + 1] = v[j]
                j -= 1
            }
            v[j + 1] = x
            i += 1
        }
        let n = v.count
        switch rule {
        case .median:
            return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
        case let .trimmedMean(trim):
            var s = 0.0
            for i in trim..<(n - trim) { s += v[i] }
            return s / Double(n - 2 * trim)
        case .mean:
            preconditionFailure("the oracle covers the order statistics")
        }
    }
}

/// A reproducible generator (SplitMix64).
private struct Mix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Mostly ordinary values, with many exact ties and every special value.
    mutating func value() -> Double {
        let specials: [Double] = [0, -0.0, .nan, -.nan, .infinity, -.infinity, 1, -1, 2.5, .leastNonzeroMagnitude,
                                  -.leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        switch next() % 8 {
        case 0: return specials[Int(next() % UInt64(specials.count))]
        case 1, 2: return Double(Int(next() % 5) - 2)  // ties, and zeros of both signs through -1·0
        default: return Double(Int64(bitPattern: next() % (1 << 40)) - (1 << 39)) / Double(1 << 20)
        }
    }
}

private func folder() throws -> String {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-order-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    return root
}

private func writeF64(_ path: String, _ tensors: [(String, [Double])]) throws {
    let writer = try SafetensorsWriter(path: path, tensors: tensors.map { TensorSpec(name: $0.0, dtype: .f64, shape: [$0.1.count]) })
    for (_, values) in tensors { try writer.append(contentsOf: values) }
    try writer.commit()
}

private func bits(_ path: String, _ name: String) throws -> [UInt64] {
    let reader = try SafetensorsReader(path: path)
    let bytes = try reader.bytes(of: try reader.tensor(named: name))
    return bytes.withUnsafeBytes { raw in (0..<(bytes.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) } }
}

/// Client counts around the network sizes (powers of two and their neighbours), tensor sizes that
/// are not multiples of the 8-element groups, a slice smaller than a tensor, and both threads.
@Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33, 64, 65])
func orderStatisticsAreBitIdenticalToTheScalarReference(clients: Int) throws {
    let root = try folder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    var mix = Mix(state: UInt64(clients))
    let sizes = [("a", 1), ("b", 7), ("c", 203), ("d", 1_029)]
    var columns: [String: [[Double]]] = [:]  // tensor → element → client values
    for (name, size) in sizes {
        columns[name] = (0..<size).map { _ in (0..<clients).map { _ in mix.value() } }
    }
    var inputs: [AggregationInput] = []
    for client in 0..<clients {
        let path = root + "/c\(client).safetensors"
        try writeF64(path, sizes.map { name, _ in (name, columns[name]!.map { $0[client] }) })
        inputs.append(AggregationInput(path: path, weight: 1, label: "site-\(client + 1)"))
    }
    var rules: [AggregatorRule] = [.median]
    for trim in Set([0, 1, (clients - 1) / 2]) where 2 * trim < clients { rules.append(.trimmedMean(trim: trim)) }
    // 128-element slices in two parts of 64 (parallelThreshold 1), and one thread with the default slice.
    for aggregator in [StreamingAggregator(bufferSize: 1_024, threads: 2, parallelThreshold: 1), StreamingAggregator()] {
        for rule in rules {
            let out = root + "/out.safetensors"
            try aggregator.aggregate(inputs, robust: RobustAggregation(rule: rule), reference: nil, into: out)
            for (name, _) in sizes {
                let expected = columns[name]!.map { Oracle.combine($0, rule: rule).bitPattern }
                let got = try bits(out, name)
                let mismatch = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }
                #expect(got.count == expected.count && mismatch == nil,
                        "\(rule), \(clients) clients, tensor \(name), element \(mismatch?.offset ?? -1): \(columns[name]![mismatch?.offset ?? 0])")
            }
        }
    }
}

/// F32 and BF16 clients (widened to Double, combined, rounded back to the clients' dtype) against the oracle.
@Test(arguments: [DType.f32, .bf16])
func orderStatisticsOfNarrowDTypesMatchTheReference(dtype: DType) throws {
    let root = try folder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    var mix = Mix(state: 99)
    let clients = 5, size = 1_001
    let values: [[Float]] = (0..<clients).map { _ in (0..<size).map { _ in Float(mix.value()) } }
    var inputs: [AggregationInput] = []
    for client in 0..<clients {
        let path = root + "/c\(client).safetensors"
        let writer = try SafetensorsWriter(path: path, tensors: [TensorSpec(name: "w", dtype: dtype, shape: [size])])
        if dtype == .f32 {
            try writer.append(contentsOf: values[client])
        } else {
            try writer.append(contentsOf: values[client].map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) })
        }
        try writer.commit()
        inputs.append(AggregationInput(path: path, weight: 1, label: "site-\(client + 1)"))
    }
    let widened: [[Double]] = values.map { row in
        row.map { dtype == .f32 ? Double($0) : Double(Float(bitPattern: $0.bitPattern & 0xFFFF_0000)) }
    }
    let aggregator = StreamingAggregator(bufferSize: 2_048, threads: 2, parallelThreshold: 1)
    for rule in [AggregatorRule.median, .trimmedMean(trim: 1), .trimmedMean(trim: 2)] {
        let out = root + "/out.safetensors"
        try aggregator.aggregate(inputs, robust: RobustAggregation(rule: rule), reference: nil, into: out)
        let reader = try SafetensorsReader(path: out)
        let tensor = try reader.tensor(named: "w")
        #expect(tensor.dtype == dtype)
        let got = try reader.floats(of: tensor)
        for k in 0..<size {
            // The reference, rounded once to F32, then (BF16) to nearest even on the upper 16 bits.
            let f = Float(Oracle.combine(widened.map { $0[k] }, rule: rule))
            let r = f.bitPattern
            let expected = dtype == .f32 || f.isNaN ? f : Float(bitPattern: ((r &+ 0x7FFF &+ ((r >> 16) & 1)) >> 16) << 16)
            #expect(got[k].bitPattern == expected.bitPattern || (got[k].isNaN && expected.isNaN), "\(rule), element \(k)")
        }
    }
}
