import FerryRuntime
import FerrySupport
import FerryWorkspace
import Foundation
import Testing

/// Issue 16, live metrics: what an executor appends to `FERRY_METRICS` reaches the server while the
/// task still runs (bounded to the newest records), and `ferry status` shows each site's latest step.
@Suite(.tags(.spawnsProcesses)) struct LiveMetricsTests {
    @Test func metricsReachTheServerDuringTheTask() throws {
        let dir = try RT.temporaryDirectory("live")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let release = dir + "/release"
        // 150 records (steps 0…149), then half a line still being written; the task then waits for the
        // test to release it, so whatever the server shows arrived during the task.
        let script = """
        i=0
        while [ $i -lt 150 ]; do
          echo "{\\"step\\": $i, \\"time\\": 1.5, \\"metrics\\": {\\"loss\\": $i.5, \\"lr\\": 0.001}}" >> "$1"
          i=$((i + 1))
        done
        printf '{"step": 150, "metr' >> "$1"
        while [ ! -e '\(release)' ]; do sleep 0.05; done
        exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"

        """
        let job = try RT.writeJob(in: dir, name: "live", server: .init(rounds: 1), command: ["sh", "live.sh", "{metrics}"],
                                  files: ["live.sh": script])
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let during = try RT.wait(fed, id) { run in
            ["site-1", "site-2"].allSatisfy { (try? snapshot(run, $0))??.records.last?.step == 149 }
        }
        #expect(!during.state.state.isFinished)
        for site in ["site-1", "site-2"] {
            let live = try #require(try snapshot(during, site))
            #expect(live.site == site && live.task == "train-r0001" && live.round == 1)
            #expect(live.records.count == LiveMetricsSnapshot.maxRecords)
            #expect(live.records.first?.step == 50 && live.records.last?.metrics == ["loss": 149.5, "lr": 0.001])
        }
        let status = try RT.run(RT.ferryBinary, ["status", id, "--workspace", fed.server.directory])
        #expect(status.status == 0, "\(status.output)")
        #expect(status.output.contains("live") && status.output.contains("site-1: train-r0001 step 149  loss=149.5000 lr=0.0010"),
                "\(status.output)")
        let json = try RT.run(RT.ferryBinary, ["status", id, "--workspace", fed.server.directory, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let site2 = try #require((object["live"] as? [String: Any])?["site-2"] as? [String: Any])
        #expect(site2["step"] as? Int == 149 && site2["task"] as? String == "train-r0001")

        // `ferry logs --follow` prints the latest step of each site and exits when the job has finished.
        let follow = Process()
        follow.executableURL = URL(fileURLWithPath: RT.ferryBinary)
        follow.arguments = ["logs", id, "--follow", "--workspace", fed.server.directory]
        let followOutput = Pipe()
        follow.standardOutput = followOutput
        follow.standardError = FileHandle.nullDevice
        try follow.run()
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        if !run.state.state.isFinished { follow.terminate() }  // failsafe passed: do not wait on it
        let followed = String(decoding: followOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        follow.waitUntilExit()
        // `ferry report` draws each site's live records per step (the server keeps their history).
        let page = dir + "/report.html"
        let report = try RT.run(RT.ferryBinary, ["report", id, "--workspace", fed.server.directory, "-o", page])
        #expect(report.status == 0, "\(report.output)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("loss per step (live metrics)") && html.contains("lr per step (live metrics)"))
        for site in ["site-1", "site-2"] {
            let history = run.paths.liveMetricsHistories()[site] ?? []
            #expect(history.first?.step == 50 && history.last?.step == 149 && history.count == 100, "\(history.count)")
            #expect(followed.contains("live \(site): train-r0001 step 149  loss=149.5000 lr=0.0010"), "\(followed)")
        }
    }

    private func snapshot(_ run: JobRun, _ site: String) throws -> LiveMetricsSnapshot? {
        let path = run.paths.liveMetrics(site: site)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try JSONFile.read(LiveMetricsSnapshot.self, from: path)
    }
}
