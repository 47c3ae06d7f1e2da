import FerrySupport
import FerryWorkspace
import Foundation
import Testing
@testable import FerryRuntime

/// A Python that has the `tensorboard` package: scripts/python-tests.sh's venv, else python3.
private let tensorBoardPython: String? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for python in [root.appendingPathComponent(".build/python-venv/bin/python").path, "/usr/bin/env"] {
        let args = python == "/usr/bin/env" ? ["python3", "-c", "import tensorboard"] : ["-c", "import tensorboard"]
        guard FileManager.default.isExecutableFile(atPath: python), let r = try? RT.run(python, args), r.status == 0 else { continue }
        return python
    }
    return nil
}()

/// Issue 16: the server writes TensorBoard event files per job (one run per site plus `aggregate`)
/// that TensorBoard's own reader loads.
@Suite struct TensorBoardTests {
    @Test func crc32cMatchesTheCastagnoliCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test(.tags(.spawnsProcesses), .enabled(if: tensorBoardPython != nil, "needs python with tensorboard (scripts/python-tests.sh installs it)"))
    func tensorBoardReadsTheRunsOfAJob() throws {
        let dir = try RT.temporaryDirectory("tensorboard")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
        for i in 0 1 2; do echo "{\\"step\\": $i, \\"metrics\\": {\\"loss\\": $FERRY_ROUND.$i}}" >> "$FERRY_METRICS"; done
        exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"

        """
        let job = try RT.writeJob(in: dir, name: "tb", server: .init(rounds: 2), command: ["sh", "tb.sh"], files: ["tb.sh": script])
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        // The last snapshot of a task is shipped after its result: wait until both sites' are in.
        _ = try RT.wait(fed, id) { run in
            ["site-1", "site-2"].allSatisfy {
                (try? JSONFile.read(LiveMetricsSnapshot.self, from: run.paths.liveMetrics(site: $0)))?.task == "train-r0002"
            }
        }
        let reader = """
        import json, os, sys
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        out = {}
        for run in sorted(os.listdir(sys.argv[1])):
            path = os.path.join(sys.argv[1], run)
            if os.path.isdir(path):
                acc = EventAccumulator(path)
                acc.Reload()
                out[run] = {t: [[e.step, round(e.value, 4)] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
        print(json.dumps(out))
        """
        let python = try #require(tensorBoardPython)
        let args = (python == "/usr/bin/env" ? ["python3"] : []) + ["-c", reader, run.paths.directory + "/tensorboard"]
        let result = try RT.run(python, args)
        #expect(result.status == 0, "\(result.output)")
        let line = try #require(result.output.split(separator: "\n").last { $0.hasPrefix("{") })
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: [String: [[Double]]]])
        #expect(runs.keys.sorted() == ["aggregate", "site-1", "site-2"])
        #expect(runs["aggregate"]?["round/loss"]?.map { $0[0] } == [1, 2])
        for site in ["site-1", "site-2"] {
            // Each task's steps follow the previous task's: round 2's steps 0…2 are global steps 3…5.
            #expect(runs[site]?["train/loss"] == [[0, 1.0], [1, 1.1], [2, 1.2], [3, 2.0], [4, 2.1], [5, 2.2]], "\(runs[site] ?? [:])")
            #expect(runs[site]?["round/loss"]?.map { $0[0] } == [1, 2])
        }
    }
}
