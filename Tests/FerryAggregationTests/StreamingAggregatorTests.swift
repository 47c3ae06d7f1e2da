import Foundation
import Testing
import FerryAggregation
import FerryTensors

private func writeModel(_ path: String, weights: [Float], step: Int64) throws {
    let writer = try SafetensorsWriter(path: path, tensors: [(name: "w", dtype: .f32, shape: [weights.count]),
                                                            (name: "step", dtype: .i64, shape: [1])])
    try writer.append(contentsOf: weights)
    try writer.append(contentsOf: [step])
    try writer.commit()
}

@Test func averagesWeightedByNumSamplesAndCopiesIntegerTensors() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-agg-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    try writeModel(root + "/a.safetensors", weights: [1, 2, 3, 4], step: 7)
    try writeModel(root + "/b.safetensors", weights: [4, 8, 12, 16], step: 7)
    // Small buffer: the tensor is processed in several slices.
    let aggregator = StreamingAggregator(bufferSize: 16, threads: 2, parallelThreshold: 1)
    try aggregator.aggregate([AggregationInput(path: root + "/a.safetensors", weight: 2, label: "site-1"),
                              AggregationInput(path: root + "/b.safetensors", weight: 1, label: "site-2")],
                             into: root + "/avg.safetensors")
    let reader = try SafetensorsReader(path: root + "/avg.safetensors")
    let w = try #require(reader.header.tensors.first { $0.name == "w" })
    #expect(try reader.floats(of: w) == [2, 4, 6, 8])
    let step = try #require(reader.header.tensors.first { $0.name == "step" })
    #expect(try reader.values(of: step, as: Int64.self) == [7])
}

@Test func aggregatesAModelLargerThanTheBufferExactly() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-agg-big-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    // Three clients, three tensors of 5,000 / 777 / 1 elements; a 512-byte buffer (64-element slices).
    let sizes = [("layer.0.weight", 5_000), ("layer.0.bias", 777), ("scale", 1)]
    let weights: [Double] = [10, 30, 60]
    var inputs: [AggregationInput] = []
    var values: [[[Float]]] = []  // client → tensor → values
    for c in 0..<3 {
        var tensors: [[Float]] = []
        for (t, (_, n)) in sizes.enumerated() {
            tensors.append((0..<n).map { i in Float((i * 7 + c * 13 + t * 3) % 101) / 8 - 6 })
        }
        values.append(tensors)
        let path = root + "/client-\(c).safetensors"
        let writer = try SafetensorsWriter(path: path, tensors: sizes.map { (name: $0.0, dtype: DType.f32, shape: [$0.1]) })
        for t in tensors { try writer.append(contentsOf: t) }
        try writer.commit()
        inputs.append(AggregationInput(path: path, weight: weights[c], label: "site-\(c + 1)"))
    }
    let aggregator = StreamingAggregator(bufferSize: 512, threads: 2, parallelThreshold: 64)
    let summary = try aggregator.aggregate(inputs, into: root + "/avg.safetensors")
    #expect(summary.workingMemoryBytes < 5_000 * 4)  // less than one tensor, let alone a model per client
    let reader = try SafetensorsReader(path: root + "/avg.safetensors")
    for (t, (name, n)) in sizes.enumerated() {
        let got = try reader.floats(of: try reader.tensor(named: name))
        #expect(got.count == n)
        // Values are multiples of 1/8 and weights sum to 100: the average is exact in Double, rounded once to Float.
        let expected = (0..<n).map { i in Float((0..<3).reduce(0.0) { $0 + weights[$1] * Double(values[$1][t][i]) } / 100) }
        #expect(got == expected, "\(name)")
    }
}
