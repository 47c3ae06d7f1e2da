import FerryRuntime
import FerryTensors
import FerryWorkspace
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The chaos run: a fedavg job (3 clients, 3 rounds, the deterministic example trainer) during which
/// watchers — and with them their senders, receivers and executors — are killed with SIGKILL at
/// seeded random moments and restarted. The job must finish, and its final model must be
/// byte-identical to the one of an undisturbed run.
///
/// Small by default (one chaos run, 4 kills). Longer: `scripts/chaos.sh` or the environment variables
/// `FERRY_CHAOS_RUNS` (runs), `FERRY_CHAOS_KILLS` (kills per run), `FERRY_CHAOS_SEED` (first seed).
@Suite(.serialized) struct ChaosTests {
    static let sites = ["server", "site-1", "site-2", "site-3"]

    /// The seeded kill schedule (a 64-bit linear congruential generator: reproducible, not secret).
    struct Schedule {
        var state: UInt64
        mutating func below(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
    }

    private static func setting(_ name: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? fallback
    }

    /// Runs the job on a fresh federation under `dir`, killing `kills` watchers on `schedule`.
    /// Returns the final model's bytes and the kills made.
    private func runJob(in dir: String, kills: Int, schedule: inout Schedule) throws -> (model: Data, kills: Int) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let job = try RT.writeJob(in: dir, name: "chaos", server: .init(rounds: 3, minClients: 3), command: RT.trainer)
        let fed = try RT.federation(in: dir, clients: 3)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        var made = 0
        while made < kills {
            usleep(UInt32(150_000 + schedule.below(1_200_000)))
            if try fed.run(id).state.state.isFinished { break }
            let site = Self.sites[schedule.below(Self.sites.count)]
            let watcher = try #require(fed.watcher(site))
            watcher.send(SIGKILL)
            #expect(watcher.wait(timeout: .seconds(120)), "watcher \(site) did not die")
            try fed.restart(site)
            made += 1
        }
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "after \(made) kills: \(run.state.reason ?? "\(run.state.state)")")
        #expect(run.rounds.map(\.round) == [1, 2, 3])
        let model = try #require(run.finalModel)
        return (try Data(contentsOf: URL(fileURLWithPath: model)), made)
    }

    @Test func fedavgSurvivesSeededKillsWithAByteIdenticalModel() throws {
        let runs = Self.setting("FERRY_CHAOS_RUNS", 1)
        let kills = Self.setting("FERRY_CHAOS_KILLS", 4)
        let seed = Self.setting("FERRY_CHAOS_SEED", 2026)
        let dir = try RT.temporaryDirectory("chaos")
        defer { if ProcessInfo.processInfo.environment["FERRY_CHAOS_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) } }

        var calm = Schedule(state: 0)
        let reference = try runJob(in: dir + "/reference", kills: 0, schedule: &calm)
        var totalKills = 0
        var survived = 0
        for r in 0..<runs {
            var schedule = Schedule(state: UInt64(seed + r))
            let chaos = try runJob(in: dir + "/chaos-\(r)", kills: kills, schedule: &schedule)
            totalKills += chaos.kills
            #expect(chaos.model == reference.model, "run \(r) (seed \(seed + r)): final model differs from the undisturbed run")
            if chaos.model == reference.model { survived += 1 }
        }
        print("chaos: \(totalKills) SIGKILLs over \(runs) run(s) (seed \(seed)), \(survived)/\(runs) survived with a byte-identical model")
    }
}
