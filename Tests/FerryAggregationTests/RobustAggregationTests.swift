import Foundation
import Testing
import FerryAggregation
import FerryTensors

private func folder() throws -> String {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-robust-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    return root
}

private func write(_ path: String, _ w: [Float], step: Int64 = 3) throws -> String {
    let writer = try SafetensorsWriter(path: path, tensors: [(name: "w", dtype: .f32, shape: [w.count]),
                                                            (name: "step", dtype: .i64, shape: [1])])
    try writer.append(contentsOf: w)
    try writer.append(contentsOf: [step])
    try writer.commit()
    return path
}

private func weights(_ path: String) throws -> [Float] {
    let reader = try SafetensorsReader(path: path)
    return try reader.floats(of: try reader.tensor(named: "w"))
}

/// Five clients; per element (hand-computed): sorted columns [1,2,3,4,100], [-40,10,20,30,50], [-3,0,1,2,5].
private let clients: [[Float]] = [[1, 10, -3], [2, 20, 5], [100, 30, 0], [3, -40, 1], [4, 50, 2]]

private func inputs(_ root: String, _ values: [[Float]]) throws -> [AggregationInput] {
    try values.enumerated().map { i, v in
        AggregationInput(path: try write(root + "/c\(i).safetensors", v), weight: Double(i + 1), label: "site-\(i + 1)")
    }
}

@Test func medianIsCoordinateWiseAndUnweighted() throws {
    let root = try folder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let out = root + "/median.safetensors"
    try StreamingAggregator().aggregate(try inputs(root, clients), robust: .init(rule: .median), reference: nil, into: out)
    #expect(try weights(out) == [3, 20, 1])
    // An even count takes the mean of the two middle values.
    try StreamingAggregator().aggregate(try inputs(root, Array(clients.prefix(4))), robust: .init(rule: .median),
                                        reference: nil, into: out)
    #expect(try weights(out) == [2.5, 15, 0.5])
    let reader = try SafetensorsReader(path: out)
    #expect(try reader.values(of: try reader.tensor(named: "step"), as: Int64.self) == [3])
}

@Test func trimmedMeanDropsTrimValuesAtEachEnd() throws {
    let root = try folder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let out = root + "/trimmed.safetensors"
    try StreamingAggregator().aggregate(try inputs(root, clients), robust: .init(rule: .trimmedMean(trim: 1)),
                                        reference: nil, into: out)
    #expect(try weights(out) == [3, 20, 1])  // (2+3+4)/3, (10+20+30)/3, (0+1+2)/3
    #expect(throws: AggregationError.self) {
        try StreamingAggregator().aggregate(try inputs(root, Array(clients.prefix(4))),
                                            robust: .init(rule: .trimmedMean(trim: 2)), reference: nil, into: out + ".2")
    }
    #expect(!FileManager.default.fileExists(atPath: out + ".2"))
}

@Test func normBoundScalesOnlyTheLargeUpdates() throws {
    let root = try folder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let reference = try write(root + "/global.safetensors", [0, 0, 0])
    let out = root + "/clipped.safetensors"
    // ‖a − g‖ = 5 → scaled by 1/5 to [0.6, 0.8, 0]; ‖b − g‖ = 1 stays. Equal weights.
    let two = [AggregationInput(path: try write(root + "/a.safetensors", [3, 4, 0]), weight: 1, label: "a"),
               AggregationInput(path: try write(root + "/b.safetensors", [0, 0, 1]), weight: 1, label: "b")]
    let (_, scales) = try StreamingAggregator().aggregate(two, robust: .init(rule: .mean, maxUpdateNorm: 1),
                                                          reference: reference, into: out)
    #expect(scales == [0.2, 1])
    #expect(try weights(out) == [0.3, 0.4, 0.5])
}

@Test func robustRulesStreamAcrossSlicesWithBoundedMemory() throws {
    let root = try folder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let n = 1_000
    let values: [[Float]] = (0..<5).map { c in (0..<n).map { i in Float((i * 7 + c * 13) % 101) / 4 } }
    let out = root + "/median.safetensors"
    let aggregator = StreamingAggregator(bufferSize: 512)  // 64-element slices
    let (summary, _) = try aggregator.aggregate(try inputs(root, values), robust: .init(rule: .median),
                                                reference: nil, into: out)
    #expect(summary.workingMemoryBytes < n * 4 * 5)
    let expected: [Float] = (0..<n).map { i in values.map { $0[i] }.sorted()[2] }
    #expect(try weights(out) == expected)
}

/// References from numpy (`float64` arithmetic, `m`/`v` rounded to `float32` every step, as ferry does):
/// `python3 scripts/reference/fedopt_reference.py` (numpy 2.4) prints them.
@Test(arguments: [
    (ServerOptimizer(name: .sgd, lr: 1, momentum: 0.5), [Float(1.0), -1.0, 1.0, 0.25], [Float(1.75), 0.0, 0.0, 0.375]),
    (ServerOptimizer(name: .adam, lr: 0.1), [0.5980392098426819, -1.0, 1.9009901285171509, 0.09615384787321091],
     [0.72802734375, -0.9009900689125061, 1.7678589820861816, 0.2214011698961258]),
    (ServerOptimizer(name: .yogi, lr: 0.1), [0.5980392098426819, -1.0, 1.9009901285171509, 0.09615384787321091],
     [0.7278759479522705, -0.9009900689125061, 1.7680824995040894, 0.22096110880374908]),
    (ServerOptimizer(name: .adagrad, lr: 0.1), [0.5998004078865051, -1.0, 1.9000998735427856, 0.09960159659385681],
     [0.6871358752250671, -0.9000998735427856, 1.8187718391418457, 0.15097545087337494]),
])
func serverOptimizerMatchesNumpyOverTwoRounds(optimizer: ServerOptimizer, round1: [Float], round2: [Float]) throws {
    let root = try folder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let g0 = try write(root + "/g0.safetensors", [0.5, -1, 2, 0])
    let a1 = try write(root + "/a1.safetensors", [1, -1, 1, 0.25])
    let a2 = try write(root + "/a2.safetensors", [1.5, 0, 0.5, 0.25])
    try optimizer.step(previous: g0, averaged: a1, state: nil, output: root + "/g1.safetensors",
                       stateOutput: root + "/s1.safetensors")
    #expect(try weights(root + "/g1.safetensors") == round1)
    try optimizer.step(previous: root + "/g1.safetensors", averaged: a2, state: root + "/s1.safetensors",
                       output: root + "/g2.safetensors", stateOutput: root + "/s2.safetensors")
    #expect(try weights(root + "/g2.safetensors") == round2)
    // Redoing round 2 (a server killed before it committed) gives the same bytes.
    try optimizer.step(previous: root + "/g1.safetensors", averaged: a2, state: root + "/s1.safetensors",
                       output: root + "/g2b.safetensors", stateOutput: root + "/s2b.safetensors")
    #expect(FileManager.default.contents(atPath: root + "/g2.safetensors") == FileManager.default.contents(atPath: root + "/g2b.safetensors"))
    let step = try SafetensorsReader(path: root + "/g2.safetensors")
    #expect(try step.values(of: try step.tensor(named: "step"), as: Int64.self) == [3])
}
