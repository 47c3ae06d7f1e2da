import Foundation
import Testing
import FerryAggregation
import FerryTensors

/// Issue 17: SCAFFOLD's bundle (model + control variates in one file) and its server step, against
/// hand-computed values.
@Suite struct ScaffoldUpdateTests {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-scaffold-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func model(_ name: String, _ w: [Float], step: Int64 = 7) throws -> String {
        let path = root + "/" + name
        let writer = try SafetensorsWriter(path: path, tensors: [(name: "w", dtype: .f32, shape: [w.count]),
                                                                (name: "step", dtype: .i64, shape: [1])])
        try writer.append(contentsOf: w)
        try writer.append(contentsOf: [step])
        try writer.commit()
        return path
    }

    func control(_ name: String, _ w: [Float]) throws -> String {
        let path = root + "/" + name
        let writer = try SafetensorsWriter(path: path, tensors: [(name: "w", dtype: .f32, shape: [w.count])])
        try writer.append(contentsOf: w)
        try writer.commit()
        return path
    }

    func values(_ path: String, _ name: String = "w") throws -> [Float] {
        let reader = try SafetensorsReader(path: path)
        return try reader.floats(of: try reader.tensor(named: name))
    }

    func bundle(_ name: String, y: [Float], delta: [Float], step: Int64) throws -> String {
        let path = root + "/" + name
        try ScaffoldBundle.join(model: try model(name + ".y", y, step: step), control: try control(name + ".d", delta), into: path)
        return path
    }

    @Test func aBundleSplitsBackIntoItsTwoPayloads() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let joined = try bundle("b", y: [1, 2, 3], delta: [0.5, -0.5, 0], step: 9)
        #expect(try ScaffoldBundle.isBundle(joined))
        #expect(try !ScaffoldBundle.isBundle(try model("plain", [1])))
        #expect(try SafetensorsReader(path: joined).tensors.map(\.name).sorted() == ["ferry.control/w", "step", "w"])
        try ScaffoldBundle.split(joined, model: root + "/m", control: root + "/c")
        #expect(try values(root + "/m") == [1, 2, 3])
        #expect(try SafetensorsReader(path: root + "/m").tensors.map(\.name).sorted() == ["step", "w"])
        #expect(try values(root + "/c") == [0.5, -0.5, 0])
    }

    @Test func theServerStepMatchesTheHandComputedValues() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let x = try model("x", [1, 2], step: 1)
        let c = try control("c", [0.5, -0.5])
        let results = [AggregationInput(path: try bundle("1", y: [3, 2], delta: [1, 0], step: 5), weight: 1, label: "site-1"),
                       AggregationInput(path: try bundle("2", y: [1, 6], delta: [0, 2], step: 6), weight: 3, label: "site-2")]
        try ScaffoldUpdate(serverLearningRate: 0.5, totalClients: 4)
            .apply(global: x, control: c, results: results, output: root + "/x1", controlOutput: root + "/c1")
        // Weights 1/4, 3/4: mean y = [1.5, 5]; x + 0.5·(mean − x) = [1.25, 3.5].
        #expect(try values(root + "/x1") == [1.25, 3.5])
        // c + (Δ₁ + Δ₂)/N = [0.5 + 0.25, −0.5 + 0.5].
        #expect(try values(root + "/c1") == [0.75, 0])
        // Integer tensors come from the first client, as in fedavg.
        let reader = try SafetensorsReader(path: root + "/x1")
        #expect(try reader.bytes(of: try reader.tensor(named: "step")) == [5, 0, 0, 0, 0, 0, 0, 0])
        // Round 1: c starts at zero.
        try ScaffoldUpdate(totalClients: 2)
            .apply(global: x, control: nil, results: results, output: root + "/x0", controlOutput: root + "/c0")
        #expect(try values(root + "/c0") == [0.5, 1])
        #expect(try values(root + "/x0") == [1.5, 5])
    }

    @Test func aResultWithoutControlVariatesIsRefusedByName() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let x = try model("x", [1, 2])
        let results = [AggregationInput(path: try model("plain", [1, 1]), weight: 1, label: "site-7")]
        #expect(throws: AggregationError.missingTensor(client: "site-7", tensor: "ferry.control/w", reference: "the global model")) {
            try ScaffoldUpdate(totalClients: 1).apply(global: x, control: nil, results: results,
                                                      output: root + "/x1", controlOutput: root + "/c1")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/x1") && !FileManager.default.fileExists(atPath: root + "/c1"))
    }

    @Test func aClientControlVariateAddsItsDelta() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let zeros = root + "/z"
        try ControlVariates.zeros(like: try model("x", [3, 4, 5]), into: zeros)
        #expect(try values(zeros) == [0, 0, 0])
        #expect(try SafetensorsReader(path: zeros).tensors.map(\.name) == ["w"])
        try ControlVariates.add(zeros, delta: try control("d", [0.25, -1, 2]), deltaLabel: "FERRY_CONTROL_DELTA", into: root + "/ci")
        #expect(try values(root + "/ci") == [0.25, -1, 2])
    }
}
