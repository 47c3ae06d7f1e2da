import FerryExecutor
import Foundation
import Testing

/// ``PersistentExecutor`` on its own: the process's environment, a failure the executor reports, a task
/// timeout (the process is replaced, not counted as a crash) and the stop file.
@Suite(.tags(.spawnsProcesses)) struct PersistentExecutorProtocolTests {
    /// A persistent executor in plain Python. At its start it writes `start PID INPUT SITE` (INPUT: whether
    /// FERRY_INPUT_MODEL is set) to `trace`; per request it answers by the task's name: `hang` sleeps,
    /// `fail` answers failed, anything else writes a result with `num_samples` = the round.
    static func script(trace: String) -> String {
        PersistentExecutorTests.requestLoop(trace: trace) + """
        note(f"start {pid} {'FERRY_INPUT_MODEL' in os.environ} {site}")
        for r, answer in requests():
            note(f"task {r['task']} {pid}")
            if r["task"] == "hang":
                time.sleep(3600)
            elif r["task"] == "fail":
                answer({"status": "failed", "error": "no data for this task"})
                continue
            with open(r["result"], "w") as f:
                json.dump({"num_samples": r["round"]}, f)
            answer({"status": "ok"})

        """
    }

    private func invocation(_ dir: String, task: String, round: Int, timeout: Duration) -> ExecutorInvocation {
        let context = ExecutorContext(inputModel: "", outputModel: "\(dir)/\(task).safetensors", result: "\(dir)/\(task).json",
                                      round: round, rounds: 9, site: "site-3", jobID: "job", task: task,
                                      appDirectory: dir + "/app", workDirectory: dir)
        return ExecutorInvocation(command: ["python3", "executor.py"], timeout: timeout, context: context,
                                  logPath: dir + "/job.log", killGracePeriod: .milliseconds(500), requireOutputModel: false)
    }

    private func outcome(of ticket: PersistentTicket) -> ExecutorOutcome? {
        let deadline = ContinuousClock.now + RT.failsafe
        while ticket.outcome == nil, ContinuousClock.now < deadline { usleep(20_000) }
        return ticket.outcome
    }

    @Test func reportedFailuresTimeoutsAndTheStopFile() throws {
        let dir = try RT.temporaryDirectory("persistent-protocol")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/app", withIntermediateDirectories: true)
        try Self.script(trace: dir + "/trace").write(toFile: dir + "/app/executor.py", atomically: true, encoding: .utf8)
        let job = invocation(dir, task: "", round: 0, timeout: .seconds(3600))
        let executor = PersistentExecutor(.init(invocation: job, directory: dir + "/executor", restarts: 0))
        defer { executor.stop(grace: .seconds(1)); executor.waitUntilStopped() }

        let first = try #require(outcome(of: executor.submit(invocation(dir, task: "one", round: 1, timeout: .seconds(3600)))))
        #expect(first.succeeded && first.result?.numSamples == 1, "\(String(describing: first.failure))")
        let failed = try #require(outcome(of: executor.submit(invocation(dir, task: "fail", round: 2, timeout: .seconds(3600)))))
        #expect(failed.failure == .reportedFailure("no data for this task"))
        // The hanging task always outlives its 1 s: the outcome is the timeout, whatever the machine's load.
        let hung = try #require(outcome(of: executor.submit(invocation(dir, task: "hang", round: 3, timeout: .seconds(1)))))
        #expect(hung.termination == .timedOut, "\(hung.termination)")
        let after = try #require(outcome(of: executor.submit(invocation(dir, task: "four", round: 4, timeout: .seconds(3600)))))
        #expect(after.succeeded && after.result?.numSamples == 4, "restarts: 0, yet a timeout is no crash: \(String(describing: after.failure))")
        #expect(executor.record.starts == 2 && executor.record.crashes == 0, "\(executor.record)")

        let lines = RT.lines(dir + "/trace")
        let starts = lines.filter { $0.hasPrefix("start ") }
        #expect(starts.count == 2 && starts.allSatisfy { $0.hasSuffix(" False site-3") },
                "the process gets the job's variables, not a task's: \(starts)")
        #expect(lines.filter { $0.hasPrefix("task ") }.map { $0.split(separator: " ")[1] } == ["one", "fail", "hang", "four"])

        executor.stop(grace: .seconds(3600))  // it must exit on the stop file, long before SIGTERM
        executor.waitUntilStopped()
        let second = starts.last?.split(separator: " ")[1] ?? ""
        #expect(RT.lines(dir + "/trace").last == "stop site-3 \(second)")
        let late = try #require(outcome(of: executor.submit(invocation(dir, task: "late", round: 5, timeout: .seconds(3600)))))
        #expect(late.failure == .cancelled, "a task after the stop is cancelled")
    }
}
