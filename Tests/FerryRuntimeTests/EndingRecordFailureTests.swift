import FerryRuntime
import FerryWorkspace
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An I/O error on the job store's `state.json` right after `runtime/workflow.json` committed the end
/// of a completed job. The watcher must keep retrying the record of that end (the ending in
/// `workflow.json` wins) instead of failing the job; before the fix its error handler called
/// `finish(.failed)`, which rewrote `workflow.json` as failed and left `state.json` `running`.
///
/// The fault: the server watcher is stopped (SIGSTOP) on the inotify event of the final model's link
/// (`models/final.safetensors.linking` created, just before the end is committed), `state.json` is
/// replaced by a non-empty directory (reads and renames onto it fail, also for root), the watcher
/// continues (SIGCONT) and fails at least once, then the file is put back.
@Suite(.tags(.spawnsProcesses)) struct EndingRecordFailureTests {
    @Test func aJobStoreFailureAfterTheEndIsCommittedIsRetriedAndTheJobCompletes() throws {
        let dir = try RT.temporaryDirectory("end-io")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try RT.writeJob(in: dir, name: "endio", server: .init(rounds: 1, minClients: 2), command: RT.trainer)
        let fed = try RT.federation(in: dir, clients: 2)
        defer { fed.stop() }
        let server = try #require(fed.watcher("server"))
        // The stop must land before state.json records the end; on a busy machine it sometimes lands
        // after, and then another job is tried (a miss costs one short job; 20 misses in a row do not
        // happen even under load).
        var hit: (id: String, jobDirectory: String)?
        var tries = 0
        for _ in 1...20 where hit == nil {
            tries += 1
            let id = try fed.submit(job).id
            let jobDirectory = try fed.run(id).paths.directory
            // The final model is linked and published just before the end is committed (workflow.json, then
            // state.json), after the last other write of state.json: stop the server when the link is made.
            try #require(RT.waitForRename(of: "final.safetensors.linking", in: jobDirectory + "/models",
                                          events: UInt32(IN_CREATE)) { true })
            server.send(SIGSTOP)
            try #require(RT.waitStopped(server.pid), "the server watcher did not stop")
            if try fed.run(id).state.state.isFinished {
                server.send(SIGCONT)
                _ = try RT.waitFinished(fed, id)
                continue
            }
            let state = jobDirectory + "/state.json"
            try FileManager.default.moveItem(atPath: state, toPath: dir + "/state.json.saved")
            try FileManager.default.createDirectory(atPath: state + "/blocked", withIntermediateDirectories: true)
            server.send(SIGCONT)
            hit = (id, jobDirectory)
        }
        let (id, jobDirectory) = try #require(hit, "\(tries) stops all landed after state.json recorded the end: nothing injected")
        let state = jobDirectory + "/state.json"
        let saved = dir + "/state.json.saved"
        print("end-io: the fault was injected at the end of job \(tries) of \(tries)")

        // The watcher's log names the failed write of the job's end (at least one attempt).
        let log = fed.server.logsDirectory + "/watcher.log"
        let failed = ContinuousClock.now + RT.failsafe
        var sawFailure = false
        while !sawFailure, ContinuousClock.now < failed {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            sawFailure = text.split(separator: "\n").contains { $0.contains(id) && $0.contains("state.json") }
            if !sawFailure { usleep(50_000) }
        }
        #expect(sawFailure, "no failed write of state.json in \(log)")
        try FileManager.default.removeItem(atPath: state)
        try FileManager.default.moveItem(atPath: saved, toPath: state)

        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.state.rawValue): \(run.state.reason ?? "")")
        #expect(run.state.reason == nil)
        #expect(run.finalModel != nil)
        let workflow = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: jobDirectory + "/runtime/workflow.json")))
        #expect((workflow as? [String: Any])?["ending"] as? String == "completed", "workflow.json: \(workflow)")
    }
}
