import FerryRuntime
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `executor: {persistent: true}` through the runtime: one process per job per site takes every task over
/// the request protocol, is started again after a crash (bounded by `restarts`), and a kill -9 of the
/// executor or of the watcher still ends each task with exactly one outcome.
@Suite(.tags(.spawnsProcesses)) struct PersistentExecutorTests {
    /// A persistent executor in plain Python (no ferry package: the protocol as another language sees it).
    /// It appends `start SITE PID` when it starts, `task SITE ROUND PID` per request, `stop SITE PID` at the
    /// stop file, and runs the example trainer for each request. `HANG` (`SITE ROUND`, comma-separated)
    /// makes the first attempt of those tasks sleep an hour (once: a file `marker-ROUND` remembers it);
    /// `CRASH_AFTER_TASK=1` makes every process exit 3 right after it answered a task.
    static func executor(trace: String, marker: String) -> (command: [String], files: [String: String]) {
        let script = requestLoop(trace: trace) + """
        note(f"start {site} {pid}")
        for r, answer in requests():
            note(f"task {site} {r['round']} {pid}")
            mark = \(pythonString(marker)) + f"-{r['round']}"
            if f"{site} {r['round']}" in os.environ.get("HANG", "").split(",") and not os.path.exists(mark):
                open(mark, "w").close()
                time.sleep(3600)
            subprocess.run(["ferry-example-trainer", "--input", r["input_model"], "--output", r["output_model"],
                            "--result", r["result"], "--site", site, "--round", str(r["round"])], check=True)
            answer({"status": "ok"})
            if os.environ.get("CRASH_AFTER_TASK") == "1":
                sys.exit(3)

        """
        return (["python3", "executor.py"], ["executor.py": script])
    }

    /// The protocol's loop in plain Python for test executors: `note(line)` appends to `trace`;
    /// `requests()` yields each request with a function that writes its done marker, and exits the process
    /// (after noting `stop SITE PID`) at the stop file.
    static func requestLoop(trace: String) -> String {
        """
        import json, os, subprocess, sys, time
        folder, site, pid = os.environ["FERRY_EXECUTOR_DIR"], os.environ.get("FERRY_SITE"), os.getpid()
        def note(line):
            with open(\(pythonString(trace)), "a") as f:
                f.write(line + "\\n")
        def requests():
            n = 1
            while True:
                request = os.path.join(folder, "requests", "%06d.json" % n)
                while not os.path.exists(request):
                    if os.path.exists(os.path.join(folder, "stop")):
                        note(f"stop {site} {pid}")
                        sys.exit(0)
                    time.sleep(0.05)
                with open(request) as f:
                    r = json.load(f)
                done = os.path.join(folder, "requests", "%06d.done" % n)
                def answer(value, done=done):
                    with open(done + ".tmp", "w") as f:
                        json.dump(value, f)
                    os.replace(done + ".tmp", done)
                yield r, answer
                n += 1

        """
    }

    static func pythonString(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "\\'") + "'" }

    /// Writes a test job whose client app is `executor` run persistent (`extra` goes into `executor:`).
    static func writeJob(in dir: String, name: String, server: RT.Server, trace: String, marker: String,
                         env: [String: String] = [:], extra: String = "  persistent: true\n") throws -> String {
        let (command, files) = executor(trace: trace, marker: marker)
        let job = try RT.writeJob(in: dir, name: name, server: server, command: command, env: env, files: files)
        let app = job + "/apps/client/app.yaml"
        let text = try String(contentsOfFile: app, encoding: .utf8)
        try text.replacingOccurrences(of: "executor:\n", with: "executor:\n" + extra).write(toFile: app, atomically: true, encoding: .utf8)
        return job
    }

    /// The trace lines starting with `prefix`, as their last field (a pid).
    static func pids(_ trace: String, _ prefix: String) -> [Int32] {
        RT.lines(trace).filter { $0.hasPrefix(prefix) }.compactMap { $0.split(separator: " ").last.flatMap { Int32($0) } }
    }

    /// Waits (polling, failsafe deadline) until `condition` holds.
    static func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + RT.failsafe
        while !condition() {
            if ContinuousClock.now >= deadline { return false }
            usleep(20_000)
        }
        return true
    }

    static func jobLog(_ fed: LocalFederation, client: Int, id: String) -> String {
        (try? String(contentsOfFile: fed.clients[client] + "/jobs/\(id)/logs/site-\(client + 1).log", encoding: .utf8)) ?? ""
    }

    /// Submits `job` to a new 2-client federation under `dir` and waits until site-1's executor hangs in
    /// its round-1 task (the job's `HANG`); returns the federation, the job id and the hanging pid.
    static func startHanging(_ job: String, in dir: String, trace: String) throws -> (LocalFederation, String, Int32) {
        let fed = try RT.federation(in: dir, clients: 2)
        let id = try fed.submit(job).id
        var hung: Int32 = 0
        let started = eventually {
            hung = pids(trace, "task site-1 1 ").first ?? 0
            return hung > 0 && FileManager.default.fileExists(atPath: dir + "/marker-1")
        }
        if !started { fed.stop() }
        try #require(started, "site-1 never started its first task")
        return (fed, id, hung)
    }

    @Test func oneProcessTakesEveryTaskOfTheJobAndExitsAtItsEnd() throws {
        let dir = try RT.temporaryDirectory("persistent")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace"
        let server = RT.Server(rounds: 3, minClients: 2)
        let job = try Self.writeJob(in: dir, name: "persistent", server: server, trace: trace, marker: dir + "/marker")
        let reference = try RT.writeJob(in: dir, name: "oneshot", server: server, command: RT.trainer)
        let fed = try RT.federation(in: dir, clients: 2)
        defer { fed.stop() }

        let id = try fed.submit(job).id
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.state.rawValue): \(run.state.reason ?? "")")
        for site in ["site-1", "site-2"] {
            let starts = Self.pids(trace, "start \(site) ")
            #expect(starts.count == 1, "\(site) started \(starts.count) executors: \(RT.lines(trace))")
            let tasks = (1...3).map { Self.pids(trace, "task \(site) \($0) ") }
            #expect(tasks == [starts, starts, starts], "every task of \(site) must go to its one process: \(RT.lines(trace))")
            #expect(Self.eventually { Self.pids(trace, "stop \(site) ") == starts }, "\(site)'s executor did not exit at the job's end")
            if let pid = starts.first { #expect(Self.eventually { !RT.isAlive(pid) }, "\(site)'s executor \(pid) still runs") }
        }
        // The same trainer run one-shot gives the same model: the requests carry the same task values.
        let oneShot = try RT.waitFinished(fed, try fed.submit(reference).id)
        #expect(oneShot.state.state == .finishedCompleted)
        let model = try Data(contentsOf: URL(fileURLWithPath: try #require(run.finalModel)))
        #expect(model == (try Data(contentsOf: URL(fileURLWithPath: try #require(oneShot.finalModel)))))
    }

    @Test func aKilledExecutorFailsItsTaskOnceAndIsStartedAgainForTheNext() throws {
        let dir = try RT.temporaryDirectory("persistent-kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace"
        let job = try Self.writeJob(in: dir, name: "killed", server: RT.Server(rounds: 3, minClients: 1), trace: trace,
                                    marker: dir + "/marker", env: ["HANG": "site-1 1,site-1 2"])
        let (fed, id, hung) = try Self.startHanging(job, in: dir, trace: trace)
        defer { fed.stop() }
        var second: Int32 = 0
        defer { for pid in [hung, second] where pid > 0 && RT.isAlive(pid) { kill(pid, SIGKILL) } }
        kill(hung, SIGKILL)

        // Round 2 hangs on the restarted process: the site's heartbeat shows the crash beside the task.
        #expect(Self.eventually {
            second = Self.pids(trace, "task site-1 2 ").first ?? 0
            return second > 0 && FileManager.default.fileExists(atPath: dir + "/marker-2")
        }, "site-1 never started its second task")
        #expect(second != hung)
        #expect(Self.eventually {
            let report = try? SiteLivenessReport.read(server: fed.server)
            let tasks = report?.sites.first { $0.site == "site-1" }?.heartbeat?.tasks ?? []
            return tasks.contains { $0.task == "train-r0002" && $0.executorCrashes == 1 }
        }, "site-1's heartbeat does not show the crash")
        kill(second, SIGKILL)

        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.state.rawValue): \(run.state.reason ?? "")")
        for round in run.rounds.prefix(2) {
            let site1 = try #require(round.clients["site-1"])
            #expect(site1.status == "failed" && site1.error?.contains("killed by signal 9") == true, "\(site1.error ?? "")")
        }
        #expect(run.rounds.count == 3 && run.rounds.last?.clients["site-1"]?.status == "ok")
        for round in 1...2 {
            #expect(Self.pids(trace, "task site-1 \(round) ").count == 1, "a failed task must not run again: \(RT.lines(trace))")
        }
        let starts = Self.pids(trace, "start site-1 ")
        #expect(starts.count == 3 && Array(starts.prefix(2)) == [hung, second], "\(RT.lines(trace))")
        #expect(Self.pids(trace, "task site-1 3 ") == [starts.last ?? 0], "round 3 must run on the third process")
        let log = Self.jobLog(fed, client: 0, id: id)
        #expect(log.contains("crashed: killed by signal 9") && log.contains("restart 2 of 3"), "\(log)")
    }

    @Test func aKilledWatcherLeavesOneOutcomePerTask() throws {
        let dir = try RT.temporaryDirectory("persistent-watcher")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace"
        let job = try Self.writeJob(in: dir, name: "orphan", server: RT.Server(rounds: 2, minClients: 2), trace: trace,
                                    marker: dir + "/marker", env: ["HANG": "site-1 1"])
        let (fed, id, orphan) = try Self.startHanging(job, in: dir, trace: trace)
        defer { fed.stop() }
        defer { if orphan > 0, RT.isAlive(orphan) { kill(orphan, SIGKILL) } }
        let watcher = try #require(fed.watcher("site-1"))
        watcher.send(SIGKILL)
        #expect(watcher.wait(timeout: .seconds(120)), "the site-1 watcher did not die")
        #expect(RT.isAlive(orphan), "the executor died with its watcher: nothing to test")
        try fed.restart("site-1")

        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.state.rawValue): \(run.state.reason ?? "")")
        #expect(run.rounds.allSatisfy { $0.clients["site-1"]?.status == "ok" })
        #expect(!RT.isAlive(orphan), "the orphaned persistent executor \(orphan) still runs")
        let round1 = Self.pids(trace, "task site-1 1 ")
        #expect(round1.count == 2 && round1.first == orphan && round1.last != orphan, "\(RT.lines(trace))")
        let log = Self.jobLog(fed, client: 0, id: id)
        #expect(log.contains("process(es) of the persistent executor, still running after the watcher's restart"), "\(log)")
        #expect(log.contains("was interrupted (attempt 1)"), "\(log)")
    }

    @Test func crashesAreBoundedByRestarts() throws {
        let dir = try RT.temporaryDirectory("persistent-restarts")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace"
        let job = try Self.writeJob(in: dir, name: "crashing", server: RT.Server(rounds: 3, minClients: 1), trace: trace,
                                    marker: dir + "/marker", env: ["CRASH_AFTER_TASK": "1"],
                                    extra: "  persistent: true\n  restarts: 1\n")
        let fed = try RT.federation(in: dir, clients: 1)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedFailed, "\(run.state.state.rawValue): \(run.state.reason ?? "")")
        #expect(run.rounds.prefix(2).allSatisfy { $0.clients["site-1"]?.status == "ok" }, "\(run.rounds)")
        // Round 3 fails the job (min_clients 1): its reason carries site-1's error.
        let reason = run.state.reason ?? ""
        #expect(run.rounds.count == 2 && reason.hasPrefix("round 3:"), "\(run.rounds.count) rounds: \(reason)")
        #expect(reason.contains("crashed 2 times") && reason.contains("executor.restarts: 1"), "\(reason)")
        #expect(Self.pids(trace, "start site-1 ").count == 2, "\(RT.lines(trace))")
        let log = Self.jobLog(fed, client: 0, id: id)
        #expect(log.contains("exited with status 3 between tasks") && log.contains("it is not started again"), "\(log)")
    }
}
