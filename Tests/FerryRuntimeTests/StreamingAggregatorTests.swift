import Foundation
import Testing
import FerryRuntime
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
