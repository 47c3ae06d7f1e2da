import FerryRuntime
import FerryWorkspace
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The server watcher SIGKILLed at the end of a job: right after it commits the end in
/// `runtime/workflow.json`, before the job store's `state.json` says so. The restarted watcher must
/// record the end; before the fix the job stayed `running` for ever with its final model published
/// (the "stall" of the dense chaos runs, docs/reliability.md).
@Suite(.tags(.spawnsProcesses)) struct ServerKilledAtTheEndTests {
    @Test(arguments: ["completed", "failed"])
    func serverKilledBetweenTheWorkflowCommitAndTheJobStateRecordsTheEnd(ending: String) throws {
        let dir = try RT.temporaryDirectory("end-\(ending)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ending == "failed" ? ["TRAINER_FAIL_SITE": "site-2"] : [:]
        let job = try RT.writeJob(in: dir, name: "end", server: .init(rounds: 1, minClients: 2), command: RT.trainer, env: env)
        let fed = try RT.federation(in: dir, clients: 2)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let jobDirectory = try fed.run(id).paths.directory
        let runtime = jobDirectory + "/runtime"
        // Written just before the finishing save of workflow.json: the final model, or the abort note.
        let marker = ending == "failed" ? runtime + "/abort.json" : jobDirectory + "/models/final.safetensors"
        let deadline = ContinuousClock.now + RT.failsafe
        while !FileManager.default.fileExists(atPath: runtime), ContinuousClock.now < deadline { usleep(1_000) }
        let server = try #require(fed.watcher("server"))
        try #require(RT.waitForRename(of: "workflow.json", in: runtime) { FileManager.default.fileExists(atPath: marker) })
        server.send(SIGKILL)
        #expect(server.wait(timeout: .seconds(120)))
        let cut = try fed.run(id).state.state
        try fed.restart("server")

        let run = try RT.waitFinished(fed, id)
        let expected: JobState = ending == "failed" ? .finishedFailed : .finishedCompleted
        #expect(run.state.state == expected, "state.json right after the kill: \(cut.rawValue); after the restart: \(run.state.state.rawValue)")
        #expect(run.state.finishedAt != nil)
        if ending == "failed" {
            #expect(run.state.reason?.contains("only 1 of 2 clients succeeded") == true, "\(run.state.reason ?? "")")
        } else {
            #expect(run.finalModel != nil)
            #expect(run.state.reason == nil)
        }
    }
}
