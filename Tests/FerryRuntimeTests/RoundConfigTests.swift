import FerryRuntime
import Foundation
import Testing

/// Issue 16, config per round: the server app's `round_config:` reaches every task's executor as the
/// JSON file `FERRY_CONFIG` (and `{config}`) names, with each round's scheduled values.
@Suite(.tags(.spawnsProcesses)) struct RoundConfigTests {
    @Test(arguments: ["fedavg", "cyclic"])
    func everyTaskSeesItsRoundsConfig(workflow: String) throws {
        let dir = try RT.temporaryDirectory("round-config")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace"
        try FileManager.default.createDirectory(atPath: trace, withIntermediateDirectories: true)
        let script = """
        [ "$1" = "$FERRY_CONFIG" ] || { echo "{config} is '$1', FERRY_CONFIG is '$FERRY_CONFIG'" >&2; exit 7; }
        cp "$FERRY_CONFIG" '\(trace)'/"$FERRY_SITE-$FERRY_ROUND.json"
        exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"

        """
        let server = RT.Server(workflow: workflow, rounds: 3, extra: """
        round_config:
          learning_rate:
            per_round: [0.5, 0.25]
          decay:
            linear: [1.0, 0.0]
          optimizer: adamw
          layers: [1, 2]
        """)
        let job = try RT.writeJob(in: dir, name: "round-config", server: server, command: ["sh", "config.sh", "{config}"],
                                  files: ["config.sh": script])
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        for site in ["site-1", "site-2"] {
            for (round, (lr, decay)) in [(0.5, 1.0), (0.25, 0.5), (0.25, 0.0)].enumerated() {
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(trace)/\(site)-\(round + 1).json"))
                let config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                #expect(config["learning_rate"] as? Double == lr, "\(site) round \(round + 1): \(config)")
                #expect(config["decay"] as? Double == decay, "\(site) round \(round + 1): \(config)")
                #expect(config["optimizer"] as? String == "adamw")
                #expect(config["layers"] as? [Int] == [1, 2])
            }
        }
    }

    @Test func withoutRoundConfigTheFileHoldsAnEmptyObject() throws {
        let dir = try RT.temporaryDirectory("round-config-none")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace"
        try FileManager.default.createDirectory(atPath: trace, withIntermediateDirectories: true)
        let script = """
        cp "$FERRY_CONFIG" '\(trace)'/"$FERRY_SITE.json"
        exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"

        """
        let job = try RT.writeJob(in: dir, name: "no-config", server: .init(rounds: 1), command: ["sh", "config.sh"],
                                  files: ["config.sh": script])
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        let text = try String(contentsOfFile: trace + "/site-1.json", encoding: .utf8)
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "{}")
    }
}
