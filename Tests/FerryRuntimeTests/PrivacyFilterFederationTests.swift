import FerryRuntime
import FerryTensors
import FerryTransfer
import Foundation
import Testing

/// Issue 17: a job's privacy filters run at each site before its result leaves, then quantization;
/// the server fills excluded tensors from the global model and records the filters in the round.
@Suite(.tags(.spawnsProcesses)) struct PrivacyFilterFederationTests {
    static func weights(_ path: String, _ name: String) throws -> [Float] {
        let reader = try SafetensorsReader(path: path)
        return try reader.floats(of: try reader.tensor(named: name))
    }

    @Test(arguments: ["nf4", "blockwise8"])
    func excludePercentileAndDPComposeWithQuantization(quantize: String) throws {
        let dir = try RT.temporaryDirectory("privacy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let results = dir + "/results"
        try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
        // Each site returns a fixed model; "b" (a value that must never leave a site) is excluded.
        try RT.writeModel(results + "/site-1.safetensors", tensors: [("w", [1, 2, 3, 4]), ("b", [100])])
        try RT.writeModel(results + "/site-2.safetensors", tensors: [("w", [4, 0, 3, 1]), ("b", [-100])])
        let script = """
        cp '\(results)'/"$FERRY_SITE.safetensors" "$FERRY_OUTPUT_MODEL"
        echo '{"num_samples": 1, "metrics": {}}' > "$FERRY_RESULT"

        """
        let server = RT.Server(workflow: "fedavg", rounds: 1, minClients: 2, extra: "initial_model: models/initial.safetensors\n")
        let job = try RT.writeJob(in: dir, name: "privacy", server: server, command: ["sh", "fixed.sh"], files: ["fixed.sh": script])
        let client = try String(contentsOfFile: job + "/apps/client/app.yaml", encoding: .utf8) + """
        filters:
          to_server:
            - exclude: ["b"]
            - percentile: {percentile: 50, gamma: 2.5}
            - dp-gaussian: {clip: 100, noise_multiplier: 0}
            - quantize: \(quantize)

        """
        try client.write(toFile: job + "/apps/client/app.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: job + "/models", withIntermediateDirectories: true)
        try RT.writeModel(job + "/models/initial.safetensors", tensors: [("w", [0, 0, 0, 0]), ("b", [5])])
        let fed = try RT.federation(in: dir, clients: 2)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        // Updates [1, 2, 3, 4] and [4, 0, 3, 1]: the 50th percentile of |delta| is 2.5 at site-1 and 2 at
        // site-2, so site-1 shares [0, 0, 2.5, 2.5] and site-2 [2.5, 0, 2.5, 0] (clipped to gamma), exact in
        // nf4 (0 and the block's absmax are codes), within blockwise8's step near 0. "b" keeps its global value.
        let w = try Self.weights(run.paths.finalModel, "w")
        if quantize == "nf4" {
            #expect(w == [1.25, 0, 2.5, 1.25])
        } else {
            #expect(zip(w, [1.25, 0, 2.5, 1.25]).allSatisfy { abs($0 - $1) < 1e-3 }, "\(w)")
        }
        #expect(try Self.weights(run.paths.finalModel, "b") == [5])
        let record = try #require(run.rounds.first)
        for site in ["site-1", "site-2"] {
            let filters = try #require(record.clients[site]?.filters, "\(site)")
            #expect(filters.map(\.name) == ["exclude", "percentile", "dp-gaussian"])
            #expect(filters[0].patterns == ["b"] && filters[0].excludedTensors == 1)
            #expect(filters[1].percentile == 50 && filters[1].gamma == 2.5 && filters[1].values == 4)
            #expect(filters[2].clip == 100 && filters[2].noiseMultiplier == 0 && filters[2].seedSource == "site")
        }
    }

    /// A site whose policy requires more noise refuses the job with the reason; a site with
    /// `approve: manual` shows its operator the filters, and once approved sends a noised result whose
    /// seed it drew itself and kept.
    @Test func aPolicyRequiringNoiseRefusesTheJobAndApprovalShowsTheFilters() throws {
        let dir = try RT.temporaryDirectory("privacy-policy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let results = dir + "/results"
        try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
        try RT.writeModel(results + "/model.safetensors", tensors: [("w", [3, 4])])
        let script = """
        cp '\(results)/model.safetensors' "$FERRY_OUTPUT_MODEL"
        echo '{"num_samples": 1, "metrics": {}}' > "$FERRY_RESULT"

        """
        let server = RT.Server(workflow: "fedavg", rounds: 1, minClients: 1, extra: "initial_model: models/initial.safetensors\n")
        let job = try RT.writeJob(in: dir, name: "noised", server: server, command: ["sh", "fixed.sh"], files: ["fixed.sh": script])
        let client = try String(contentsOfFile: job + "/apps/client/app.yaml", encoding: .utf8)
            + "filters:\n  to_server:\n    - dp-gaussian: {clip: 1, noise_multiplier: 0.5}\n"
        try client.write(toFile: job + "/apps/client/app.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: job + "/models", withIntermediateDirectories: true)
        try RT.writeModel(job + "/models/initial.safetensors", tensors: [("w", [0, 0])])
        let fed = try RT.federation(in: dir, clients: 2, start: false)
        try "filters:\n  privacy:\n    dp-gaussian: {min_noise_multiplier: 1.0}\n".write(toFile: fed.clients[0] + "/policy.yaml", atomically: true, encoding: .utf8)
        try "approve: manual\nfilters:\n  privacy:\n    dp-gaussian: {}\n".write(toFile: fed.clients[1] + "/policy.yaml", atomically: true, encoding: .utf8)
        try RT.startWatchers(fed)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        _ = try RT.wait(fed, id) { $0.state.sites["site-2"] == "waiting for approval" || $0.state.state.isFinished }
        let list = try RT.run(RT.ferryBinary, ["approvals", "--workspace", fed.clients[1]])
        #expect(list.output.contains("dp-gaussian clip 1.0, noise_multiplier 0.5"), "\(list.output)")
        #expect(try RT.run(RT.ferryBinary, ["approve", id, "--workspace", fed.clients[1]]).status == 0)
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.state.sites["site-1"]?.hasPrefix("refused: policy.yaml:2: filters.privacy: the job's dp-gaussian has noise_multiplier 0.5; this site requires at least 1.0") == true,
                "\(run.state.sites)")
        let record = try #require(run.rounds.first)
        #expect(record.clients.keys.sorted() == ["site-2"])
        let dp = try #require(record.clients["site-2"]?.filters?.first)
        #expect(dp.name == "dp-gaussian" && dp.noiseStd == 0.5 && dp.seedSource == "site" && dp.values == 2)
        // The update [3, 4] (norm 5) is clipped to norm 1, then noised with σ = 0.5: not the trained model.
        let w = try Self.weights(run.paths.finalModel, "w")
        #expect(w != [3, 4] && w != [0.6, 0.8], "\(w)")
        let report = try String(contentsOfFile: fed.clients[1] + "/jobs/\(id)/tasks/train-r0001/filters.json", encoding: .utf8)
        #expect(report.contains("\"siteSeed\"") && report.contains("\"updateNorms\" : [\n    5"), "\(report)")
    }
}
