import FerryRuntime
import FerryTensors
import Foundation
import Testing

/// Issue 17: `workflow: fedopt` with `aggregator: median` runs end to end: a poisoned site does not move
/// the median, the server optimizer steps from the previous global model, and its state stays beside
/// every kept global model.
@Suite(.tags(.spawnsProcesses)) struct FedOptFederationTests {
    static func write(_ path: String, _ values: [Float]) throws {
        let writer = try SafetensorsWriter(path: path, tensors: [(name: "w", dtype: .f32, shape: [values.count])])
        try writer.append(contentsOf: values)
        try writer.commit()
    }

    static func weights(_ path: String) throws -> [Float] {
        let reader = try SafetensorsReader(path: path)
        return try reader.floats(of: try reader.tensor(named: "w"))
    }

    @Test func fedoptStepsAlongTheMedianUpdate() throws {
        let dir = try RT.temporaryDirectory("fedopt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let results = dir + "/results"
        try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
        // Each site returns a fixed model; site-3's is poisoned.
        try Self.write(results + "/site-1.safetensors", [1, 2])
        try Self.write(results + "/site-2.safetensors", [3, 0])
        try Self.write(results + "/site-3.safetensors", [1000, -1000])
        let script = """
        cp '\(results)'/"$FERRY_SITE.safetensors" "$FERRY_OUTPUT_MODEL"
        echo '{"num_samples": 1, "metrics": {}}' > "$FERRY_RESULT"

        """
        let server = RT.Server(workflow: "fedopt", rounds: 2, minClients: 3, extra: """
        initial_model: models/initial.safetensors
        aggregator: median
        server_optimizer: {name: sgd, lr: 2}
        keep: rounds
        """)
        let job = try RT.writeJob(in: dir, name: "fedopt", server: server, command: ["sh", "fixed.sh"],
                                  files: ["fixed.sh": script])
        try FileManager.default.createDirectory(atPath: job + "/models", withIntermediateDirectories: true)
        try Self.write(job + "/models/initial.safetensors", [0, 0])
        let fed = try RT.federation(in: dir, clients: 3)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        // Median [3, 0]; x₁ = 0 + 2·(3 − 0) = 6; x₂ = 6 + 2·(3 − 6) = 0.
        #expect(try Self.weights(run.paths.globalModel(round: 1)) == [6, 0])
        #expect(try Self.weights(run.paths.finalModel) == [0, 0])
        #expect(run.rounds.map(\.workflow) == ["fedopt", "fedopt"])
        for round in 1...2 {
            let state = run.paths.directory + "/models/optimizer-round-\(round).safetensors"
            #expect(FileManager.default.fileExists(atPath: state), "\(state)")
        }
    }
}
