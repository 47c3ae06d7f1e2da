import FerryRuntime
import FerryWorkspace
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A client watcher SIGKILLed while its executor runs leaves the executor running on its own (it leads
/// its own process group and gets no signal when its parent dies). The restarted watcher runs the task
/// again; it must first kill the old executor, so two executors of one task never run at once (the old
/// one could otherwise write over the new run's output and result files).
@Suite(.tags(.spawnsProcesses)) struct OrphanedExecutorTests {
    /// A trainer wrapper. Each attempt appends `start SITE ROUND PID` to `trace`, after an `overlap SITE
    /// ROUND PID` line for every earlier attempt of the same site and round whose process is still alive.
    /// The first attempt of site-1 in round 1 sleeps an hour (quietly: its output pipes die with the
    /// watcher; it must still be alive when the restarted watcher gets to it, however slow the machine)
    /// unless `marker` exists. Then it runs the deterministic example trainer.
    static func trainer(trace: String, marker: String) -> (command: [String], files: [String: String]) {
        let script = """
        alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
        for p in $(sed -n "s/^start $FERRY_SITE $FERRY_ROUND //p" '\(trace)'); do
          if alive "$p"; then echo "overlap $FERRY_SITE $FERRY_ROUND $p" >> '\(trace)'; fi
        done
        echo "start $FERRY_SITE $FERRY_ROUND $$" >> '\(trace)'
        if [ "$FERRY_SITE" = site-1 ] && [ "$FERRY_ROUND" = 1 ] && [ ! -e '\(marker)' ]; then
          : > '\(marker)'
          sleep 3600
        fi
        exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"

        """
        return (["sh", "slow.sh"], ["slow.sh": script])
    }

    /// Runs the job on a fresh federation under `dir`; `disturb` gets the federation and the job id
    /// while the job runs. Returns the final model's bytes.
    private func runJob(in dir: String, trace: String, marker: String,
                        disturb: (LocalFederation, String) throws -> Void) throws -> Data {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let (command, files) = Self.trainer(trace: trace, marker: marker)
        let job = try RT.writeJob(in: dir, name: "orphan", server: .init(rounds: 2, minClients: 2), command: command, files: files)
        let fed = try RT.federation(in: dir, clients: 2)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        try disturb(fed, id)
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.state.rawValue): \(run.state.reason ?? "")")
        let model = try #require(run.finalModel)
        return try Data(contentsOf: URL(fileURLWithPath: model))
    }

    @Test func aRestartedClientKillsTheOrphanedExecutorBeforeRunningTheTaskAgain() throws {
        let dir = try RT.temporaryDirectory("orphan")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let calmMarker = dir + "/calm-marker"
        try Data().write(to: URL(fileURLWithPath: calmMarker))
        let reference = try runJob(in: dir + "/reference", trace: dir + "/reference.trace", marker: calmMarker) { _, _ in }

        let trace = dir + "/chaos.trace"
        var orphan: Int32 = 0
        var clientLog = ""
        defer { if orphan > 0, RT.isAlive(orphan) { kill(-orphan, SIGKILL) } }
        let model = try runJob(in: dir + "/chaos", trace: trace, marker: dir + "/chaos-marker") { fed, _ in
            let deadline = ContinuousClock.now + RT.failsafe
            while orphan == 0, ContinuousClock.now < deadline {
                orphan = RT.lines(trace).first { $0.hasPrefix("start site-1 1 ") }.flatMap { Int32($0.split(separator: " ")[3]) } ?? 0
                if orphan == 0 { usleep(20_000) }
            }
            try #require(orphan > 0, "site-1 never started its first task")
            let watcher = try #require(fed.watcher("site-1"))
            watcher.send(SIGKILL)
            #expect(watcher.wait(timeout: .seconds(120)), "the site-1 watcher did not die")
            #expect(RT.isAlive(orphan), "the executor died with its watcher: nothing to test")
            try fed.restart("site-1")
            clientLog = fed.clients[0] + "/logs/watcher.log"
        }
        let lines = RT.lines(trace)
        #expect(lines.filter { $0.hasPrefix("start site-1 1 ") }.count == 2, "\(lines)")
        #expect(!lines.contains { $0.hasPrefix("overlap") }, "an old executor was still alive when the task ran again: \(lines)")
        #expect(!RT.isAlive(orphan), "the orphaned executor \(orphan) is still running")
        let killed = ((try? String(contentsOfFile: clientLog, encoding: .utf8)) ?? "").split(separator: "\n")
            .filter { $0.contains("of the executor of attempt 1") }
        #expect(!killed.isEmpty, "the restarted watcher did not report the kill")
        for line in killed { print("orphan: \(line)") }
        #expect(model == reference, "the final model differs from the undisturbed run")
    }
}
