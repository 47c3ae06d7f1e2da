import FerryRuntime
import Foundation
import Testing

/// Client tasks through a real Slurm (`launcher: slurm`, scripts/slurm.sh): a fedavg job whose tasks
/// all run through sbatch, a watcher killed while its job is queued and while it runs, abort, a failing
/// job, queue time against the timeouts. Skipped, saying why, where Slurm cannot run.
@Suite(.serialized, .tags(.spawnsProcesses)) struct SlurmFederationTests {
    /// A job whose client app runs `script` (`sh task.sh`) through Slurm with `slurm` appended to its executor.
    private func slurmJob(in dir: String, name: String, rounds: Int = 1, minClients: Int = 1, timeout: String = "1h",
                          script: String, executor: String = "") throws -> String {
        let job = try RT.writeJob(in: dir, name: name, server: .init(rounds: rounds, minClients: minClients),
                                  command: ["sh", "task.sh"], timeout: timeout, files: ["task.sh": script])
        try RT.append("  launcher: slurm\n" + executor, to: job + "/apps/client/app.yaml")
        return job
    }


    /// Polls `condition` until it holds or the failsafe passes.
    private func eventually(_ what: String, _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + RT.failsafe
        while ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        Issue.record("gave up waiting: \(what)")
        return false
    }

    private static let train = """
    exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"
    """

    /// The Slurm job id recorded for a task, once there is one.
    private func recordedJobID(_ client: String, _ id: String, task: String = "train-r0001") -> String? {
        let record = RT.text(client + "/jobs/\(id)/tasks/\(task)/slurm.json")
        guard let range = record.range(of: "\"jobID\" : \"") else { return nil }
        return String(record[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test func aFedAvgJobRunsEveryClientTaskThroughSbatch() throws {
        guard SlurmHarness.available(for: "aFedAvgJobRunsEveryClientTaskThroughSbatch") else { return }
        let dir = try RT.temporaryDirectory("slurm-fedavg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace"
        let job = try slurmJob(in: dir, name: "slurm-fedavg", rounds: 2, minClients: 2, script: """
            echo "$SLURM_JOB_ID $FERRY_SITE $FERRY_ROUND $(pwd)" >> '\(trace)'
            \(Self.train)

            """)
        let fed = try RT.federation(in: dir, clients: 2)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        defer { SlurmHarness.cancelJobs(ofJob: id) }
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        let lines = RT.lines(trace)
        #expect(lines.count == 4, "\(lines)")
        let slurmIDs = lines.compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(Set(slurmIDs).count == 4 && slurmIDs.allSatisfy { Int($0) != nil }, "every task is its own Slurm job: \(lines)")
        #expect(lines.allSatisfy { $0.hasSuffix("/apps/client") }, "the job runs in the app folder: \(lines)")
        for (index, client) in fed.clients.enumerated() {
            let log = RT.text(client + "/jobs/\(id)/logs/site-\(index + 1).log")
            #expect(log.components(separatedBy: "submitted Slurm job").count == 3, "\(log)")
            #expect(log.contains("Slurm job") && log.contains("started on"), "the batch output is in the job's log: \(log)")
            let script = RT.text(client + "/jobs/\(id)/tasks/train-r0001/slurm-job.sh")
            #expect(script.contains("#SBATCH --job-name=ferry-\(id)-site-\(index + 1)-train-r0001"), "\(script)")
            #expect(script.contains("srun --kill-on-bad-exit=1 '/"), "\(script)")
        }
    }

    @Test func aWatcherKilledWhileItsJobIsQueuedAndWhileItRunsNeverSubmitsTwice() throws {
        guard SlurmHarness.available(for: "aWatcherKilledWhileItsJobIsQueuedAndWhileItRunsNeverSubmitsTwice") else { return }
        let dir = try RT.temporaryDirectory("slurm-restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let marker = dir + "/marker", go = dir + "/go"
        let job = try slurmJob(in: dir, name: "slurm-restart", script: """
            echo "start $SLURM_JOB_ID" >> '\(marker)'
            while [ ! -e '\(go)' ]; do sleep 0.1; done
            \(Self.train)

            """, executor: "  slurm:\n    extra: [\"--hold\"]\n")
        let fed = try RT.federation(in: dir, clients: 1)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        defer { SlurmHarness.cancelJobs(ofJob: id) }
        let client = fed.clients[0]
        let log = client + "/jobs/\(id)/logs/site-1.log"
        guard eventually("the Slurm job id is recorded", { recordedJobID(client, id) != nil }) else { return }
        let slurmID = recordedJobID(client, id)!
        #expect(SlurmHarness.state(of: slurmID) == "PENDING")

        // Killed while the job waits in the queue (held).
        fed.watcher("site-1")!.send(SIGKILL)
        try fed.restart("site-1")
        _ = eventually("the restarted watcher re-attaches") { RT.text(log).contains("re-attached to Slurm job \(slurmID)") }
        SlurmHarness.command(["scontrol", "release", slurmID])
        _ = eventually("the job starts") { RT.text(marker).contains("start \(slurmID)") }

        // Killed while the job runs.
        fed.watcher("site-1")!.send(SIGKILL)
        try fed.restart("site-1")
        _ = eventually("the watcher re-attaches again") {
            RT.text(log).components(separatedBy: "re-attached to Slurm job \(slurmID)").count == 3
        }
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(RT.lines(marker) == ["start \(slurmID)"], "the task ran once")
        #expect(SlurmHarness.jobs(named: "ferry-\(id)-site-1-train-r0001") == [slurmID], "Slurm got one job for the task")
        #expect(RT.text(log).components(separatedBy: "submitted Slurm job").count == 2, "\(RT.text(log))")
    }

    @Test func abortCancelsTheSlurmJob() throws {
        guard SlurmHarness.available(for: "abortCancelsTheSlurmJob") else { return }
        let dir = try RT.temporaryDirectory("slurm-abort")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let marker = dir + "/marker"
        let job = try slurmJob(in: dir, name: "slurm-abort", script: """
            echo "start $SLURM_JOB_ID" >> '\(marker)'
            while true; do sleep 0.1; done

            """)
        let fed = try RT.federation(in: dir, clients: 1)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        defer { SlurmHarness.cancelJobs(ofJob: id) }
        let client = fed.clients[0]
        guard eventually("the job runs", { !RT.text(marker).isEmpty }), let slurmID = recordedJobID(client, id) else { return }
        let aborted = try RT.run(RT.ferryBinary, ["abort", id, "--workspace", fed.server.directory])
        #expect(aborted.status == 0, "\(aborted.output)")
        #expect(eventually("Slurm cancels the job") { SlurmHarness.state(of: slurmID) == "CANCELLED" })
        let log = client + "/jobs/\(id)/logs/site-1.log"
        #expect(RT.text(log).contains("cancelling Slurm job \(slurmID) (scancel)"), "\(RT.text(log))")
    }

    @Test func aJobRunningPastItsTimeoutIsCancelledInSlurm() throws {
        guard SlurmHarness.available(for: "aJobRunningPastItsTimeoutIsCancelledInSlurm") else { return }
        let dir = try RT.temporaryDirectory("slurm-timeout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try slurmJob(in: dir, name: "slurm-timeout", timeout: "2s", script: "while true; do sleep 0.1; done\n")
        let fed = try RT.federation(in: dir, clients: 1)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        defer { SlurmHarness.cancelJobs(ofJob: id) }
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedFailed)
        #expect(run.state.reason?.contains("the executor ran past its timeout of 2 s and was terminated") == true, "\(run.state.reason ?? "")")
        let slurmID = try #require(recordedJobID(fed.clients[0], id))
        #expect(eventually("Slurm cancels the job") { SlurmHarness.state(of: slurmID) == "CANCELLED" })
    }

    @Test func aFailingSlurmJobIsReportedWithItsExitCode() throws {
        guard SlurmHarness.available(for: "aFailingSlurmJobIsReportedWithItsExitCode") else { return }
        let dir = try RT.temporaryDirectory("slurm-fail")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try slurmJob(in: dir, name: "slurm-fail", script: "echo 'no GPU memory left' >&2\nexit 3\n")
        let fed = try RT.federation(in: dir, clients: 1)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedFailed)
        let reason = run.state.reason ?? ""
        #expect(reason.contains("the executor exited with status 3"), "\(reason)")
        #expect(reason.contains("no GPU memory left"), "the job's stderr is in the reason: \(reason)")
    }

    @Test func queueTimeDoesNotCountAgainstTheTimeoutButAgainstQueueTimeout() throws {
        guard SlurmHarness.available(for: "queueTimeDoesNotCountAgainstTheTimeoutButAgainstQueueTimeout") else { return }
        let dir = try RT.temporaryDirectory("slurm-queue")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let held = try slurmJob(in: dir, name: "slurm-queued", timeout: "10s", script: Self.train + "\n",
                                executor: "  slurm:\n    extra: [\"--hold\"]\n")
        let doomed = try slurmJob(in: dir, name: "slurm-doomed", script: Self.train + "\n",
                                  executor: "  queue_timeout: 2s\n  slurm:\n    extra: [\"--hold\"]\n")
        let fed = try RT.federation(in: dir, clients: 1)
        defer { fed.stop() }
        let client = fed.clients[0]
        let id = try fed.submit(held).id
        defer { SlurmHarness.cancelJobs(ofJob: id) }
        guard eventually("the Slurm job id is recorded", { recordedJobID(client, id) != nil }) else { return }
        let slurmID = recordedJobID(client, id)!
        // Held in the queue past the executor's timeout: the queue time is the subject here.
        let submitted = Date()
        _ = eventually("the job has waited longer than its timeout") { Date().timeIntervalSince(submitted) > 12 }
        #expect(SlurmHarness.state(of: slurmID) == "PENDING")
        SlurmHarness.command(["scontrol", "release", slurmID])
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")

        let late = try RT.waitFinished(fed, try fed.submit(doomed).id)
        #expect(late.state.state == .finishedFailed)
        #expect(late.state.reason?.contains("waited in the queue longer than executor.queue_timeout (2 s) and was cancelled") == true,
                "\(late.state.reason ?? "")")
    }

    @Test func aSiteWithoutAResidentWatcherRunsItsTasksWithWatchOnce() throws {
        guard SlurmHarness.available(for: "aSiteWithoutAResidentWatcherRunsItsTasksWithWatchOnce") else { return }
        let dir = try RT.temporaryDirectory("slurm-once")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let go = dir + "/go"
        let job = try slurmJob(in: dir, name: "slurm-once", rounds: 2, script: """
            while [ ! -e '\(go)' ]; do sleep 0.1; done
            \(Self.train)

            """)
        let fed = try RT.federation(in: dir, clients: 1, start: false)
        let server = try WatcherProcess(binary: RT.ferryBinary, workspace: fed.server.directory, site: "server",
                                        arguments: ["--poll", "100ms", "--quiet"])
        defer { server.stop() }
        let id = try fed.submit(job).id
        defer { SlurmHarness.cancelJobs(ofJob: id) }
        let client = fed.clients[0]
        var leftRunning = false
        let deadline = ContinuousClock.now + RT.failsafe
        while !(try fed.run(id)).state.state.isFinished, ContinuousClock.now < deadline {
            // One cron-like run of the client: it does what is ready and exits; nothing of ferry stays.
            let once = try RT.run(RT.ferryBinary, ["watch", client, "--once", "--poll", "100ms"])
            #expect(once.status == 0, "\(once.output)")
            if once.output.contains("Slurm jobs keep running; the next run collects them"), let slurmID = recordedJobID(client, id) {
                if !leftRunning {
                    #expect(["PENDING", "RUNNING"].contains(SlurmHarness.state(of: slurmID)), "the job outlives the watcher")
                }
                leftRunning = true
                _ = FileManager.default.createFile(atPath: go, contents: nil)
            }
            usleep(200_000)
        }
        let run = try fed.run(id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(leftRunning, "a run exited while its Slurm job ran")
        for task in ["train-r0001", "train-r0002"] {
            #expect(SlurmHarness.jobs(named: "ferry-\(id)-site-1-\(task)").count == 1, "one Slurm job for \(task)")
        }
    }
}
