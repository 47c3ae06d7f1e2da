import Foundation
import Testing

/// `ferry watch --exit-when-idle` and `--max-runtime` end the watcher cleanly (exit 0, saying why).
@Suite(.tags(.spawnsProcesses)) struct WatchStopTests {
    @Test func anIdleWatcherExitsWhenAskedTo() throws {
        let dir = try RT.temporaryDirectory("watch-stop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fed = try RT.federation(in: dir, clients: 1, start: false)
        let idle = try RT.run(RT.ferryBinary, ["watch", fed.clients[0], "--exit-when-idle", "1s", "--poll", "100ms"])
        #expect(idle.status == 0 && idle.output.contains("--exit-when-idle: idle for 1.0s: stopping"), "\(idle.output)")
        let bounded = try RT.run(RT.ferryBinary, ["watch", fed.server.directory, "--max-runtime", "1s", "--poll", "100ms"])
        #expect(bounded.status == 0 && bounded.output.contains("--max-runtime: ran for 1.0s: stopping"), "\(bounded.output)")
        let once = try RT.run(RT.ferryBinary, ["watch", fed.clients[0], "--once"])
        #expect(once.status == 0 && once.output.contains("--once: no more work is ready: stopping"), "\(once.output)")
        let bad = try RT.run(RT.ferryBinary, ["watch", fed.clients[0], "--max-runtime", "soon"])
        #expect(bad.status == 2 && bad.output.contains("--max-runtime: 'soon' is not a positive duration"), "\(bad.output)")
    }
}
