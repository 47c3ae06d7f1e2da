import Foundation
import Testing
import FerryAggregation
import FerryTensors

/// The fused FedOpt step (aggregate and step in one pass) must give the bytes of the two-pass path:
/// aggregate into a file, then step from it (whose numbers the numpy references pin down).
private func folder() throws -> String {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-fused-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    return root
}

private func model(_ path: String, dtype: DType, seed: Int, size: Int) throws -> String {
    let writer = try SafetensorsWriter(path: path, tensors: [TensorSpec(name: "w", dtype: dtype, shape: [size]),
                                                            TensorSpec(name: "step", dtype: .i64, shape: [1]),
                                                            TensorSpec(name: "b", dtype: dtype, shape: [3])])
    let values: [Float] = (0..<(size + 3)).map { (k: Int) -> Float in
        let numerator = Float((k * 37 + seed * 101) % 199 - 99)
        return numerator / Float(16 + seed)
    }
    let parts: [[Float]] = [Array(values.prefix(size)), Array(values.suffix(3))]
    for part in parts {
        if dtype == .f32 {
            try writer.append(contentsOf: part)
        } else {
            let halves: [UInt16] = part.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) }
            try writer.append(contentsOf: halves)
        }
        if part.count == size { try writer.append(contentsOf: [Int64(seed)]) }
    }
    try writer.commit()
    return path
}

private let optimizers = [ServerOptimizer(name: .sgd, lr: 1, momentum: 0.5), ServerOptimizer(name: .adam, lr: 0.1),
                          ServerOptimizer(name: .yogi, lr: 0.1), ServerOptimizer(name: .adagrad, lr: 0.1)]
private let aggregations = [RobustAggregation.mean, RobustAggregation(rule: .median),
                            RobustAggregation(rule: .trimmedMean(trim: 1)), RobustAggregation(rule: .mean, maxUpdateNorm: 3)]

@Test(arguments: [DType.f32, .bf16], [0, 1, 2, 3])
func fusedStepGivesTheBytesOfAggregateThenStep(dtype: DType, aggregationIndex: Int) throws {
    let root = try folder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let size = 1_037
    let g0 = try model(root + "/g0.safetensors", dtype: dtype, seed: 0, size: size)
    let inputs = try (1...4).map { c in
        AggregationInput(path: try model(root + "/c\(c).safetensors", dtype: dtype, seed: c, size: size), weight: Double(c * 10),
                         label: "site-\(c)")
    }
    let aggregation = aggregations[aggregationIndex]
    // 64-element slices split in two parts, so slices, parts and tails are all exercised.
    let aggregator = StreamingAggregator(bufferSize: 512, threads: 2, parallelThreshold: 1)
    for optimizer in optimizers {
        var previous = g0, fusedState: String?, twoPassState: String?
        for round in 1...2 {
            let averaged = root + "/averaged-\(round).safetensors"
            if aggregation == .mean {
                try aggregator.aggregate(inputs, into: averaged)
            } else {
                try aggregator.aggregate(inputs, robust: aggregation, reference: previous, into: averaged)
            }
            let twoPass = root + "/two-\(round).safetensors", twoState = root + "/two-state-\(round).safetensors"
            try optimizer.step(previous: previous, averaged: averaged, state: twoPassState, output: twoPass,
                               stateOutput: twoState, sliceElements: 64)
            let fused = root + "/fused-\(round).safetensors", state = root + "/fused-state-\(round).safetensors"
            let (summary, scales) = try optimizer.step(clients: inputs, aggregation: aggregation, previous: previous,
                                                       state: fusedState, output: fused, stateOutput: state,
                                                       aggregator: aggregator)
            #expect(summary.clientCount == 4)
            if aggregation.maxUpdateNorm != nil { #expect(scales.contains { $0 < 1 }) }
            #expect(FileManager.default.contents(atPath: fused) == FileManager.default.contents(atPath: twoPass),
                    "\(optimizer.name) \(dtype) round \(round): model")
            #expect(FileManager.default.contents(atPath: state) == FileManager.default.contents(atPath: twoState),
                    "\(optimizer.name) \(dtype) round \(round): state")
            previous = fused
            fusedState = state
            twoPassState = twoState
        }
    }
}

@Test func fusedStepRejectsAStateOfAnotherModelAndWritesNothing() throws {
    let root = try folder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let g0 = try model(root + "/g0.safetensors", dtype: .f32, seed: 0, size: 10)
    let inputs = [AggregationInput(path: try model(root + "/c1.safetensors", dtype: .f32, seed: 1, size: 10), weight: 1, label: "site-1")]
    let other = try model(root + "/other.safetensors", dtype: .f32, seed: 2, size: 11)
    let optimizer = ServerOptimizer(name: .adam, lr: 0.1)
    try optimizer.step(clients: [AggregationInput(path: other, weight: 1, label: "x")], previous: other, state: nil,
                       output: root + "/o.safetensors", stateOutput: root + "/other-state.safetensors")
    #expect(throws: AggregationError.self) {
        try optimizer.step(clients: inputs, previous: g0, state: root + "/other-state.safetensors",
                           output: root + "/g1.safetensors", stateOutput: root + "/s1.safetensors")
    }
    #expect(!FileManager.default.fileExists(atPath: root + "/g1.safetensors"))
    #expect(!FileManager.default.fileExists(atPath: root + "/s1.safetensors"))
}
