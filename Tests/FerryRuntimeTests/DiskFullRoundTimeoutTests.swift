import FerryRuntime
import FerryWorkspace
import Foundation
import Testing

/// A client whose task waits for disk space for longer than the round timeout does not make the round
/// time out: its pause notice stops the round's clock until its result arrives (docs/runtime.md,
/// "A full disk"). A real full disk, as in ``DiskFullTests``.
@Suite(.tags(.spawnsProcesses), .serialized) struct DiskFullRoundTimeoutTests {
    @Test func aClientPausedPastTheRoundTimeoutDoesNotTimeTheRoundOut() throws {
        let dir = try RT.temporaryDirectory("diskfull-timeout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let (fed, site1, mount) = try DiskFullTests.federationWithSite1OnTmpfs(in: dir) else { return }
        let jobs = site1.jobsDirectory
        defer { mount.unmount() }
        defer { fed.stop() }
        // 20 s per round: enough for deployment and round 1 on a loaded machine, short against the pause.
        let id = try fed.submit(try DiskFullTests.writeJob(in: dir + "/job", fill: jobs + "/filler", roundTimeout: "20s")).id
        try RT.startWatchers(fed)

        // Round 2: site-1's executor fills the disk; the server is told, and its deadline passes.
        let serverLog = try fed.run(id).paths.log(site: "server")
        let held = try RT.wait(fed, id, timeout: .seconds(240)) { run in
            run.state.state.isFinished
                || ((try? String(contentsOfFile: serverLog, encoding: .utf8)) ?? "").contains("round 2: past its deadline, still waiting for site-1")
        }
        #expect(!held.state.state.isFinished, "the round timed out: \(held.state.reason ?? "")")
        #expect(held.state.paused?.hasPrefix("site-1: waiting for disk space") == true, "\(held.state.paused ?? "not paused")")
        #expect(fed.deadWatcher == nil, "the watchers keep running")

        try mount.resize("64m")
        let run = try RT.waitFinished(fed, id, timeout: .seconds(180))
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.rounds.last?.clients["site-1"]?.status == "ok")
        #expect(run.rounds.last?.clients["site-2"]?.status == "ok")
        #expect(run.state.paused == nil)
    }
}
