import FerryRuntime
import FerryTensors
import FerryWorkspace
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A server and client watchers as separate `ferry watch` processes on temporary folders, driven
/// through the job store. Serialized: each test runs a small federation (polls of 100 ms).
@Suite(.tags(.spawnsProcesses)) struct FederationTests {
    @Test(arguments: [true, false])
    func fedavgCompletesWithFallingLoss(pollingOnly: Bool) throws {
        let dir = try RT.temporaryDirectory("fedavg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try RT.writeJob(in: dir, name: "fedavg", command: RT.trainer)
        let fed = try RT.federation(in: dir, pollingOnly: pollingOnly)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.rounds.map(\.round) == [1, 2])
        let losses = run.rounds.compactMap { $0.aggregate["loss"] }
        #expect(losses.count == 2 && losses[1] < losses[0])
        #expect(run.rounds.allSatisfy { $0.clients.keys.sorted() == ["site-1", "site-2"] })
        let model = try #require(run.finalModel)
        let reader = try SafetensorsReader(path: model)
        #expect(reader.header.tensors.map(\.name).sorted() == ["bias", "weight"])
        // Logs: one per site in the job's folder.
        for site in ["server", "site-1", "site-2"] {
            #expect(FileManager.default.fileExists(atPath: run.paths.log(site: site)))
        }
    }

    @Test func fedavgAveragesWeightedByNumSamples() throws {
        let dir = try RT.temporaryDirectory("weights")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
        cp "models/$FERRY_SITE.safetensors" "$FERRY_OUTPUT_MODEL"
        n=$(cat "models/$FERRY_SITE.n")
        printf '{"num_samples": %s, "metrics": {"loss": %s}}' "$n" "$n" > "$FERRY_RESULT"

        """
        let job = try RT.writeJob(in: dir, name: "weights", server: .init(rounds: 1), command: ["sh", "fixed.sh"],
                                  files: ["fixed.sh": script, "models/site-1.n": "1", "models/site-2.n": "3"])
        try RT.writeModel(job + "/apps/client/models/site-1.safetensors", tensors: [("w", [1, 2, 3, 4]), ("b", [0.5])])
        try RT.writeModel(job + "/apps/client/models/site-2.safetensors", tensors: [("w", [5, 6, 7, 8]), ("b", [1.5])])
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        let reader = try SafetensorsReader(path: try #require(run.finalModel))
        // (1·[1,2,3,4] + 3·[5,6,7,8]) / 4 and (1·0.5 + 3·1.5) / 4
        #expect(try reader.floats(of: try reader.tensor(named: "w")) == [4, 5, 6, 7])
        #expect(try reader.floats(of: try reader.tensor(named: "b")) == [1.25])
        #expect(run.rounds.first?.aggregate["loss"] == 2.5)  // (1·1 + 3·3) / 4
        #expect(run.rounds.first?.clients["site-2"]?.numSamples == 3)
    }

    @Test func failingClientFailsTheJobBelowMinClients() throws {
        let dir = try RT.temporaryDirectory("fail")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let failing = try RT.writeJob(in: dir, name: "failing", server: .init(rounds: 1, minClients: 2), command: RT.trainer,
                                      env: ["TRAINER_FAIL_SITE": "site-2"])
        let tolerant = try RT.writeJob(in: dir, name: "tolerant", server: .init(rounds: 1, minClients: 1), command: RT.trainer,
                                       env: ["TRAINER_FAIL_SITE": "site-2"])
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let failed = try RT.waitFinished(fed, try fed.submit(failing).id)
        #expect(failed.state.state == .finishedFailed)
        let reason = failed.state.reason ?? ""
        #expect(reason.contains("only 1 of 2 clients succeeded"), "\(reason)")
        #expect(reason.contains("site-2") && reason.contains("exited with status 3"), "\(reason)")
        let completed = try RT.waitFinished(fed, try fed.submit(tolerant).id)
        #expect(completed.state.state == .finishedCompleted, "\(completed.state.reason ?? "")")
        #expect(completed.rounds.first?.clients["site-2"]?.status == "failed")
        #expect(completed.rounds.first?.clients["site-2"]?.error?.contains("exited with status 3") == true)
        #expect(completed.rounds.first?.clients["site-1"]?.status == "ok")
    }

    @Test func roundTimeoutDropsTheSlowClient() throws {
        let dir = try RT.temporaryDirectory("timeout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // site-2 sleeps for an hour; site-1 must report within the round timeout, which on a loaded machine
        // (deploy, model transfer, trainer, result transfer, 100 ms polls) can take several seconds.
        let job = try RT.writeJob(in: dir, name: "slow", server: .init(rounds: 1, roundTimeout: "20s", minClients: 1),
                                  command: RT.trainer, env: ["TRAINER_SLEEP_SITE": "site-2"])
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.rounds.first?.clients["site-2"]?.status == "timeout")
        #expect(run.rounds.first?.clients["site-1"]?.status == "ok")
    }

    @Test(arguments: ["fixed", "shuffle"])
    func cyclicVisitsSitesInOrder(order: String) throws {
        let dir = try RT.temporaryDirectory("cyclic")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace.txt"
        let (command, files) = RT.tracingTrainer(trace: trace)
        let job = try RT.writeJob(in: dir, name: "cyclic",
                                  server: .init(workflow: "cyclic", rounds: 2, minClients: 3, extra: "order: \(order)\nseed: 7"),
                                  command: command, files: files)
        let fed = try RT.federation(in: dir, clients: 3)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        let orders = run.rounds.map { $0.order ?? [] }
        #expect(orders.count == 2)
        for o in orders { #expect(o.sorted() == ["site-1", "site-2", "site-3"]) }
        if order == "fixed" { #expect(orders.allSatisfy { $0 == ["site-1", "site-2", "site-3"] }) }
        // The executors ran one after another in the recorded order.
        let expected = orders.enumerated().flatMap { index, o in o.map { "\($0) \(index + 1)" } }
        #expect(RT.lines(trace) == expected)
        #expect(run.rounds[0].clients["site-2"]?.position == orders[0].firstIndex(of: "site-2").map { $0 + 1 })
    }

    /// kill -9 of a watcher after round 1, then a restart: the job completes, every round once. The server
    /// never re-sends a task; a client re-runs only a task whose executor it was running when killed
    /// (no result had been sent), so the other client runs each task exactly once.
    @Test(arguments: ["server", "site-1"])
    func watcherKilledMidJobResumesWithoutRunningATaskTwice(killed: String) throws {
        let dir = try RT.temporaryDirectory("kill-\(killed)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/trace.txt"
        let (command, files) = RT.tracingTrainer(trace: trace)
        let job = try RT.writeJob(in: dir, name: "resume", server: .init(rounds: 3), command: command, files: files)
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        _ = try RT.wait(fed, id) { $0.rounds.count >= 1 || $0.state.state.isFinished }
        let watcher = try #require(fed.watcher(killed))
        watcher.send(SIGKILL)
        #expect(watcher.wait(timeout: .seconds(120)))
        try fed.restart(killed)
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.rounds.map(\.round) == [1, 2, 3])
        #expect(run.rounds.allSatisfy { $0.clients.values.allSatisfy { $0.status == "ok" } })
        let runs = RT.lines(trace)
        let expected = ["site-1 1", "site-1 2", "site-1 3", "site-2 1", "site-2 2", "site-2 3"]
        if killed == "server" {
            #expect(runs.sorted() == expected, "\(runs)")
        } else {
            #expect(Set(runs) == Set(expected), "\(runs)")
            #expect(runs.filter { $0.hasPrefix("site-2") }.sorted() == ["site-2 1", "site-2 2", "site-2 3"], "\(runs)")
        }
    }

    @Test func abortStopsTheJobAndItsExecutors() throws {
        let dir = try RT.temporaryDirectory("abort")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try RT.writeJob(in: dir, name: "sleepy", server: .init(rounds: 1), command: RT.trainer,
                                  env: ["TRAINER_SLEEP_SITE": "*"])
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        _ = try RT.wait(fed, id) { $0.state.sites.values.contains { $0.hasPrefix("training") } || $0.state.state.isFinished }
        _ = try JobStore(workspace: fed.server).requestAbort(id: id)
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedAborted)
        #expect(run.state.reason?.contains("abort") == true)
        // Every client learns of it and stops the job.
        let deadline = ContinuousClock.now + RT.failsafe
        let marks = fed.clients.map { $0 + "/jobs/\(id)/aborted.json" }
        while !marks.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) && ContinuousClock.now < deadline { usleep(50_000) }
        for mark in marks { #expect(FileManager.default.fileExists(atPath: mark), "\(mark)") }
    }

    @Test func unsignedAndTamperedJobsAreRefused() throws {
        let dir = try RT.temporaryDirectory("refuse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try RT.writeJob(in: dir, name: "plain", server: .init(rounds: 1), command: RT.trainer)
        let fed = try RT.federation(in: dir, start: false)
        let unsigned = try fed.submit(job)
        try FileManager.default.removeItem(atPath: unsigned.paths.signature)
        let tampered = try fed.submit(job)
        let handle = try #require(FileHandle(forUpdatingAtPath: tampered.paths.archive))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0x00]))
        try handle.close()
        try RT.startWatchers(fed)
        defer { fed.stop() }
        for id in [unsigned.id, tampered.id] {
            let run = try RT.waitFinished(fed, id)
            #expect(run.state.state == .finishedFailed)
            #expect(run.state.reason?.lowercased().contains("sign") == true, "\(run.state.reason ?? "")")
            for client in fed.clients { #expect(!FileManager.default.fileExists(atPath: client + "/jobs/\(id)")) }
        }
    }

    /// Each job's round-1 executor on a site waits (up to two minutes) until the other job's has started
    /// on that site: the jobs can only both go on when they really run at the same time.
    @Test func twoJobsRunInParallel() throws {
        let dir = try RT.temporaryDirectory("parallel")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let meet = dir + "/meet"
        try FileManager.default.createDirectory(atPath: meet, withIntermediateDirectories: true)
        let script = """
        if [ "$FERRY_ROUND" = 1 ]; then
          : > '\(meet)/'"$ME-$FERRY_SITE"
          n=0
          while [ ! -e '\(meet)/'"$OTHER-$FERRY_SITE" ]; do
            n=$((n + 1))
            if [ $n -gt 2400 ]; then : > '\(meet)/'"$ME-$FERRY_SITE.alone"; break; fi
            sleep 0.05
          done
        fi
        exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE" --round "$FERRY_ROUND"

        """
        let a = try RT.writeJob(in: dir, name: "job-a", server: .init(rounds: 2), command: ["sh", "meet.sh"],
                                env: ["ME": "a", "OTHER": "b"], files: ["meet.sh": script])
        let b = try RT.writeJob(in: dir, name: "job-b", server: .init(rounds: 2), command: ["sh", "meet.sh"],
                                env: ["ME": "b", "OTHER": "a", "LEARNING_RATE": "0.2"], files: ["meet.sh": script])
        let fed = try RT.federation(in: dir, maxJobs: 2)
        defer { fed.stop() }
        let ids = [try fed.submit(a).id, try fed.submit(b).id]
        for id in ids {
            let run = try RT.waitFinished(fed, id)
            #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
            #expect(run.rounds.count == 2)
        }
        let met = ((try? FileManager.default.contentsOfDirectory(atPath: meet)) ?? []).sorted()
        #expect(met == ["a-site-1", "a-site-2", "b-site-1", "b-site-2"], "a job's executor waited alone: \(met)")
    }

    @Test func jobNamingAnUnknownSiteIsRefused() throws {
        let dir = try RT.temporaryDirectory("unknown-site")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let far = try RT.writeJob(in: dir, name: "far", server: .init(rounds: 1, minClients: 1), command: RT.trainer,
                                  deploy: "[site-1, site-9]")
        let fed = try RT.federation(in: dir, clients: 3, start: false)
        defer { fed.stop() }
        // The server knows its federation: such a job is refused at submission, naming the site.
        #expect { _ = try fed.submit(far) } throws: { "\($0)".contains("site-9") }
        // A job that fitted when it was submitted, on a federation that has lost the site since, fails in the watcher.
        let near = try RT.writeJob(in: dir, name: "near", server: .init(rounds: 1, minClients: 1), command: RT.trainer,
                                   deploy: "[site-1, site-3]")
        let id = try fed.submit(near).id
        _ = try Provisioner(project: .standard(name: "poc", clients: 2, baseDirectory: fed.directory),
                            outputDirectory: fed.directory).run()
        let shrunk = try LocalFederation.prepare(directory: fed.directory, clients: 2)
        defer { shrunk.stop() }
        try RT.startWatchers(shrunk)
        let run = try RT.waitFinished(shrunk, id)
        #expect(run.state.state == .finishedFailed)
        #expect(run.state.reason?.contains("site-3") == true, "\(run.state.reason ?? "")")
    }
}

/// The same path in one process: a ``Watcher`` per site on its own thread.
@Suite struct InProcessFederationTests {
    @Test func watchersInOneProcessCompleteAJob() throws {
        let dir = try RT.temporaryDirectory("in-process")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try RT.writeJob(in: dir, name: "inproc", server: .init(rounds: 2), command: RT.trainer)
        let fed = try RT.federation(in: dir, start: false)
        var options = WatcherOptions()
        options.pollInterval = .milliseconds(100)
        options.echoLog = false
        options.executableDirectory = (RT.ferryBinary as NSString).deletingLastPathComponent
        let watchers = try ([fed.server.directory] + fed.clients).map { try Watcher(workspace: $0, options: options) }
        let threads = watchers.map { w in Thread { try? w.run() } }
        threads.forEach { $0.start() }
        defer {
            watchers.forEach { $0.stop() }
            while threads.contains(where: { !$0.isFinished }) { usleep(10_000) }
        }
        let id = try fed.submit(job).id
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.rounds.map(\.round) == [1, 2])
        #expect(run.finalModel != nil)
    }
}
