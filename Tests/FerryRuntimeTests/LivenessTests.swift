import FerryRuntime
import FerrySupport
import FerryWorkspace
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Heartbeats, `ferry sites` and rounds that stop waiting for a site whose watcher was killed
/// (docs/runtime.md, "Liveness"). The grace is a few seconds here; every wait polls for an outcome,
/// with the failsafe deadline only against a hang.
@Suite(.tags(.spawnsProcesses)) struct LivenessTests {
    /// A grace long enough that a live watcher's heartbeat thread (every 100 ms) is never silent that
    /// long on a loaded machine, short enough for a test.
    static let grace = "4s"

    /// A federation whose watchers poll every 100 ms and call a site dead after ``grace``.
    static func federation(in dir: String, clients: Int) throws -> LocalFederation {
        let fed = try RT.federation(in: dir, clients: clients, start: false)
        try fed.start(binary: RT.ferryBinary, arguments: ["--poll", "100ms", "--dead-after", grace])
        return fed
    }

    /// Polls `condition` until it holds or the failsafe passes (then records an issue with the server's log).
    static func eventually(_ what: String, logs: [String] = [], _ condition: () throws -> Bool) throws {
        let deadline = ContinuousClock.now + RT.failsafe
        while try !condition() {
            guard ContinuousClock.now < deadline else {
                let tails = logs.map { path in
                    path + ":\n" + ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").suffix(30).joined(separator: "\n")
                }
                Issue.record("gave up waiting for \(what)\n\(tails.joined(separator: "\n"))")
                return
            }
            usleep(50_000)
        }
    }

    /// The run of job `id` once `condition` holds (or the failsafe passed). Unlike ``RT/wait``, a watcher
    /// that was killed on purpose is no failure.
    static func wait(_ fed: LocalFederation, _ id: String, until condition: (JobRun) -> Bool) throws -> JobRun {
        var run = try fed.run(id)
        try eventually("job \(id) to reach the expected state", logs: [fed.server.logsDirectory + "/watcher.log"]) {
            run = try fed.run(id)
            return condition(run)
        }
        return run
    }

    /// `ferry sites --json` of the federation: site → its entry.
    static func sites(_ fed: LocalFederation) throws -> [String: [String: Any]] {
        let r = try RT.run(RT.ferryBinary, ["sites", "--workspace", fed.server.directory, "--json"])
        #expect(r.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any])
        let list = try #require(object["sites"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: list.map { ($0["site"] as? String ?? "", $0) })
    }

    static func heartbeat(_ fed: LocalFederation, _ site: String) -> Heartbeat? {
        Heartbeat.read(inbox: fed.server.inboxDirectory, site: site)
    }

    @Test func everyWatcherRewritesOneSmallHeartbeatFile() throws {
        let dir = try RT.temporaryDirectory("heartbeat")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fed = try Self.federation(in: dir, clients: 2)
        defer { fed.stop() }
        var first: [String: Heartbeat] = [:]
        try Self.eventually("a heartbeat of every site") {
            for site in ["server", "site-1", "site-2"] { first[site] = first[site] ?? Self.heartbeat(fed, site) }
            return first.count == 3
        }
        var sizes: Set<Int64> = []
        try Self.eventually("site-1's heartbeat rewritten several times") {
            guard let path = Heartbeat.path(inbox: fed.server.inboxDirectory, site: "site-1"),
                  let info = FileSystem.info(path), let now = Self.heartbeat(fed, "site-1") else { return false }
            sizes.insert(info.size)
            return now.sequence >= (first["site-1"]?.sequence ?? 0) + 5
        }
        // Rewritten in place: the folder holds one file per site whatever the number of writes, and
        // the file keeps its size (a few hundred bytes).
        let folder = FileSystem.join(fed.server.inboxDirectory, Heartbeat.folder)
        let files = Set(FileSystem.list(folder).filter { !$0.hasPrefix(".") })
        #expect(files == ["server.json", "site-1.json", "site-2.json"])
        #expect(sizes.allSatisfy { $0 > 100 && $0 < 4096 }, "\(sizes)")
        let beat = try #require(Self.heartbeat(fed, "site-1"))
        #expect(beat.site == "site-1" && beat.role == "client" && beat.version == FerryVersion.current)
        #expect(beat.instance == first["site-1"]?.instance && beat.bootID == HostDurability.bootID)
        #expect(beat.pid == fed.watcher("site-1")?.pid)
        #expect(beat.inbox.freeBytes ?? 0 > 0 && beat.workspace.freeBytes ?? 0 > 0)
        #expect(beat.inbox.path == (try SiteWorkspace.open(fed.clients[0])).inboxDirectory)
        #expect(beat.tasks.isEmpty)
        #expect(Self.heartbeat(fed, "server")?.role == "server")
    }

    @Test func sitesShowsAliveAndDeadSitesAndASiteThatComesBack() throws {
        let dir = try RT.temporaryDirectory("sites")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fed = try Self.federation(in: dir, clients: 2)
        defer { fed.stop() }
        try Self.eventually("every site alive") {
            try Self.sites(fed).values.allSatisfy { $0["state"] as? String == "alive" }
        }
        fed.watcher("site-2")?.send(SIGKILL)
        let serverLog = fed.server.logsDirectory + "/watcher.log"
        try Self.eventually("the server to call site-2 dead") {
            (try String(contentsOfFile: serverLog, encoding: .utf8)).contains("site-2: not seen for")
        }

        let sites = try Self.sites(fed)
        #expect(Set(sites.keys) == ["server", "site-1", "site-2"])
        for site in ["server", "site-1"] { #expect(sites[site]?["state"] as? String == "alive") }
        let dead = try #require(sites["site-2"])
        #expect(dead["role"] as? String == "client")
        #expect((dead["silent_s"] as? Double ?? 0) > 4)
        #expect(dead["last_seen"] is String)
        #expect(dead["clock"] as? String == "observed")
        let beat = try #require(dead["heartbeat"] as? [String: Any])
        #expect(beat["version"] as? String == FerryVersion.current)
        #expect((beat["inbox"] as? [String: Any])?["freeBytes"] is Int)

        let text = try RT.run(RT.ferryBinary, ["sites", "--workspace", fed.server.directory])
        #expect(text.status == 0)
        let lines = text.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("SITE") == true && lines.first?.contains("LAST SEEN") == true)
        let row = try #require(lines.first { $0.hasPrefix("site-2 ") })
        #expect(row.contains(" dead ") && row.contains(" ago") && row.contains(FerryVersion.current), "\(row)")
        #expect(lines.contains { $0.hasPrefix("site-1 ") && $0.contains(" alive ") })
        #expect(lines.last == "grace 4.0s")

        try fed.restart("site-2")
        try Self.eventually("site-2 alive again") { try Self.sites(fed)["site-2"]?["state"] as? String == "alive" }
        try Self.eventually("the server sees site-2 back") {
            (try String(contentsOfFile: serverLog, encoding: .utf8)).contains("site-2 is back")
        }
    }

    /// A client app whose round-1 task waits for the file `gate` before training (on `site` only, or
    /// on every site).
    static func gatedJob(in dir: String, workflow: String = "fedavg", minClients: Int, rounds: Int,
                         site: String? = nil) throws -> (job: String, gate: String) {
        let gate = dir + "/gate"
        let gated = site.map { "[ \"$FERRY_ROUND\" = 1 ] && [ \"$FERRY_SITE\" = \($0) ]" } ?? "[ \"$FERRY_ROUND\" = 1 ]"
        let script = """
        if \(gated); then while [ ! -f '\(gate)' ]; do sleep 0.05; done; fi
        exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"

        """
        let job = try RT.writeJob(in: dir, name: "gated", server: .init(workflow: workflow, rounds: rounds, minClients: minClients),
                                  command: ["sh", "gated.sh"], files: ["gated.sh": script])
        return (job, gate)
    }

    /// Runs the gated job on a federation of `clients` sites, kills `victim`'s watcher (SIGKILL) once
    /// `training` has its round-1 task, and hands the federation, the job id and the gate to `body`.
    static func withKilledSite(_ label: String, clients: Int, workflow: String = "fedavg", minClients: Int, rounds: Int,
                               gatedSite: String? = nil, training: String, kill victim: String,
                               _ body: (LocalFederation, String, String) throws -> Void) throws {
        let dir = try RT.temporaryDirectory(label)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (job, gate) = try gatedJob(in: dir, workflow: workflow, minClients: minClients, rounds: rounds, site: gatedSite)
        let fed = try federation(in: dir, clients: clients)
        defer {
            _ = FileManager.default.createFile(atPath: gate, contents: nil)  // lets orphaned executors end
            fed.stop()
        }
        let id = try fed.submit(job).id
        _ = try RT.wait(fed, id) { $0.state.sites[training] == "training round 1" || $0.state.state.isFinished }
        fed.watcher(victim)?.send(SIGKILL)
        try body(fed, id, gate)
    }

    @Test func aKilledSiteFailsTheRoundAtOnceWhenMinClientsCannotBeMet() throws {
        try Self.withKilledSite("dead-fail", clients: 2, minClients: 2, rounds: 2, training: "site-2", kill: "site-2") { fed, id, _ in
            let run = try Self.wait(fed, id) { $0.state.state.isFinished }
            // The round timeout is an hour and site-1 still waits at its gate: only site-2's silence ends the job.
            #expect(run.state.state == .finishedFailed)
            let reason = run.state.reason ?? ""
            #expect(reason.hasPrefix("round 1: only 1 of 2 clients can still succeed (min_clients 2); site-2: not seen for"), "\(reason)")
            #expect(reason.contains("(liveness grace 4.0s)"), "\(reason)")
            #expect(run.state.sites["site-2"]?.hasPrefix("absent round 1: not seen for") == true)
            #expect(run.rounds.isEmpty)
        }
    }

    @Test func theRoundGoesOnWithoutAKilledSiteAndWaitsForItAgainOnceBack() throws {
        try Self.withKilledSite("dead-go-on", clients: 3, minClients: 2, rounds: 2, training: "site-3", kill: "site-3") { fed, id, gate in
            let absent = try Self.wait(fed, id) { $0.state.sites["site-3"]?.hasPrefix("absent round 1") == true || $0.state.state.isFinished }
            #expect(absent.state.state == .running, "\(absent.state.reason ?? "")")

            // `ferry status` names the dead site while the job runs.
            let status = try RT.run(RT.ferryBinary, ["status", id, "--workspace", fed.server.directory])
            #expect(status.output.split(separator: "\n").contains { $0.hasPrefix("dead") && $0.contains("site-3: ") && $0.contains(" ago") },
                    "\(status.output)")
            let json = try RT.run(RT.ferryBinary, ["status", id, "--workspace", fed.server.directory, "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
            #expect(object?["dead_sites"] as? [String] == ["site-3"])

            // Back before round 2: its heartbeat is fresh, so round 2 waits for it again.
            try fed.restart("site-3")
            try Self.eventually("the server sees site-3 back", logs: [fed.server.logsDirectory + "/watcher.log", fed.clients[2] + "/logs/watcher.log"]) {
                (try String(contentsOfFile: fed.server.logsDirectory + "/watcher.log", encoding: .utf8)).contains("site-3 is back")
            }
            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            let run = try RT.waitFinished(fed, id)
            #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
            #expect(run.rounds.map(\.round) == [1, 2])
            let round1 = try #require(run.rounds.first)
            #expect(round1.clients["site-1"]?.status == "ok" && round1.clients["site-2"]?.status == "ok")
            #expect(round1.clients["site-3"]?.status == "absent")
            #expect(round1.clients["site-3"]?.error?.hasPrefix("not seen for") == true)
            #expect(run.rounds.last?.clients.values.allSatisfy { $0.status == "ok" } == true, "\(run.rounds.last?.clients ?? [:])")
        }
    }

    @Test func aCyclicRoundSkipsTheStepOfAKilledSite() throws {
        try Self.withKilledSite("dead-cyclic", clients: 3, workflow: "cyclic", minClients: 2, rounds: 1, gatedSite: "site-1",
                                training: "site-1", kill: "site-3") { fed, id, gate in
            let serverLog = fed.server.logsDirectory + "/watcher.log"
            try Self.eventually("the server to call site-3 dead", logs: [serverLog]) {
                (try String(contentsOfFile: serverLog, encoding: .utf8)).contains("site-3: not seen for")
            }
            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            let run = try Self.wait(fed, id) { $0.state.state.isFinished }
            #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
            let round = try #require(run.rounds.first)
            #expect(round.order == ["site-1", "site-2", "site-3"])
            #expect(round.clients["site-1"]?.status == "ok" && round.clients["site-2"]?.status == "ok")
            #expect(round.clients["site-3"]?.status == "absent" && round.clients["site-3"]?.position == 3)
        }
    }

    @Test func aSiteKilledBeforeDeploymentFailsTheJobWithTheReason() throws {
        let dir = try RT.temporaryDirectory("dead-deploy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try RT.writeJob(in: dir, name: "two", server: .init(rounds: 1, minClients: 2), command: RT.trainer)
        let fed = try Self.federation(in: dir, clients: 2)
        defer { fed.stop() }
        try Self.eventually("site-2's heartbeat") { Self.heartbeat(fed, "site-2") != nil }
        fed.watcher("site-2")?.send(SIGKILL)
        let id = try fed.submit(job).id
        let run = try Self.wait(fed, id) { $0.state.state.isFinished }
        #expect(run.state.state == .finishedFailed)
        let reason = run.state.reason ?? ""
        #expect(reason.hasPrefix("deployment: only 1 of 2 sites accepted the job (min_clients 2); site-2: not seen for"), "\(reason)")
        #expect(run.state.sites["site-2"]?.hasPrefix("absent: not seen for") == true, "\(run.state.sites)")
    }

    @Test func anUnreachableServerInboxIsLoggedOnceAndNeverCreated() throws {
        let dir = try RT.temporaryDirectory("heartbeat-skip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fed = try RT.federation(in: dir, clients: 1, start: false)
        let inbox = fed.server.inboxDirectory
        try FileManager.default.moveItem(atPath: inbox, toPath: inbox + ".away")  // an unmounted share
        var options = WatcherOptions()
        options.echoLog = false
        let watcher = try Watcher(workspace: fed.clients[0], options: options)
        for _ in 0..<3 { try watcher.runOnce() }
        #expect(!FileManager.default.fileExists(atPath: inbox), "the watcher created the server's inbox")
        let log = fed.clients[0] + "/logs/watcher.log"
        let skipped = try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "heartbeat: cannot write it").count - 1
        #expect(skipped == 1)
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("the server's inbox is not reachable; check that the share is mounted"))

        try FileManager.default.moveItem(atPath: inbox + ".away", toPath: inbox)
        try watcher.runOnce()
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("heartbeat: written again"))
        let beat = try #require(Heartbeat.read(inbox: inbox, site: "site-1"))
        #expect(beat.sequence == 1)
    }

    @Test func theGraceComesFromSiteYamlAndABadOneIsRefusedWithTheFileNamed() throws {
        let dir = try RT.temporaryDirectory("grace")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fed = try RT.federation(in: dir, clients: 1, start: false)
        let file = fed.server.directory + "/site.yaml"
        let original = try String(contentsOfFile: file, encoding: .utf8)
        try (original + "liveness:\n  grace: \"90s\"\n").write(toFile: file, atomically: true, encoding: .utf8)
        let server = try SiteWorkspace.open(fed.server.directory)
        #expect(try LivenessRules(workspace: server, override: nil).grace == .seconds(90))
        #expect(try LivenessRules(workspace: server, override: .seconds(3)).grace == .seconds(3))
        #expect(try SiteLivenessReport.read(server: server).graceSeconds == 90)
        // Provisioning again keeps the operator's setting.
        _ = try Provisioner(project: ProjectFile.standard(name: "poc", clients: 1, poll: nil, baseDirectory: dir + "/fed"),
                        outputDirectory: dir + "/fed").run()
        #expect(try SiteWorkspace.open(fed.server.directory).config.liveness?.grace == "90s")

        try (original + "liveness:\n  grace: \"soon\"\n").write(toFile: file, atomically: true, encoding: .utf8)
        var options = WatcherOptions()
        options.echoLog = false
        let error = #expect(throws: WorkspaceError.self) {
            try Watcher(workspace: fed.server.directory, options: options).runOnce()
        }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains(file) && text.contains("liveness.grace 'soon' is not a positive duration"), "\(text)")
    }
}
