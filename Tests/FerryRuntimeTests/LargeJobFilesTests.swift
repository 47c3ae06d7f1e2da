import FerryArchive
import FerryRuntime
import FerryWorkspace
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A job's large files (over the submission's threshold) are kept beside its archive and reach only
/// the clients whose app folder holds them, by the chunked transfer, checked against the signed
/// `files.json` before the executor starts (docs/runtime.md, "Large files").
@Suite(.tags(.spawnsProcesses)) struct LargeJobFilesTests {
    static let threshold: Int64 = 256 << 10

    /// `count` incompressible bytes.
    static func noise(_ count: Int, seed: UInt64) -> Data {
        var state = seed
        return Data((0..<count).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        })
    }

    /// A job whose client app holds `data/weights.bin` (1 MiB, over the threshold) and `data/small.txt`,
    /// and whose server app holds `big.bin` (1 MiB). The client's executor fails unless its
    /// `data/weights.bin` equals `reference`.
    static func writeJob(in dir: String) throws -> (job: String, weights: Data) {
        let weights = noise(1 << 20, seed: 7)
        let reference = dir + "/reference.bin"
        try weights.write(to: URL(fileURLWithPath: reference))
        let script = """
        cmp data/weights.bin '\(reference)' || { echo "data/weights.bin is not the job's" >&2; exit 3; }
        exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"

        """
        let job = try RT.writeJob(in: dir, name: "large", server: .init(rounds: 1), command: ["sh", "check.sh"],
                                  files: ["check.sh": script, "data/small.txt": "small\n"])
        try weights.write(to: URL(fileURLWithPath: job + "/apps/client/data/weights.bin"))
        try noise(1 << 20, seed: 8).write(to: URL(fileURLWithPath: job + "/apps/server/big.bin"))
        return (job, weights)
    }

    static func list(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }
    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func submit(_ job: String, to fed: LocalFederation) throws -> JobRecord {
        try JobStore(workspace: fed.server).submit(jobDirectoryOrArchive: job, largeFileThreshold: threshold)
    }

    @Test func aClientAppsLargeFileArrivesByTransferAndTheArchiveLeavesItOut() throws {
        let dir = try RT.temporaryDirectory("large")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (job, weights) = try Self.writeJob(in: dir)
        let fed = try RT.federation(in: dir, start: false)
        defer { fed.stop() }
        let record = try Self.submit(job, to: fed)

        let packed = try #require(try JobArchive.inspect(archive: record.paths.archive).manifest).files.map(\.path)
        #expect(packed.contains("apps/client/check.sh") && packed.contains("apps/client/data/small.txt"), "\(packed)")
        #expect(!packed.contains("apps/client/data/weights.bin") && !packed.contains("apps/server/big.bin"), "\(packed)")
        let external = try #require(try JobStore(workspace: fed.server).verify(id: record.id))
        #expect(external.files.map(\.path) == ["apps/client/data/weights.bin", "apps/server/big.bin"])
        #expect(FileManager.default.contents(atPath: record.paths.externalDirectory + "/apps/client/data/weights.bin") == weights)

        try RT.startWatchers(fed)
        let run = try RT.waitFinished(fed, record.id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.rounds.first?.clients.keys.sorted() == ["site-1", "site-2"])
        // One file message, for the client app's file only; the server app's file never left the server.
        let sent = Self.list(fed.server.directory + "/outbox/sent").filter { $0.contains(".file.") }
        #expect(sent == ["\(record.id).file.client.1.json"])
        // The site's own job log (the copy shipped to the server may still be on its way).
        for (index, site) in ["site-1", "site-2"].enumerated() {
            let log = (try? String(contentsOfFile: fed.clients[index] + "/jobs/\(record.id)/logs/\(site).log", encoding: .utf8)) ?? ""
            #expect(log.contains("received apps/client/data/weights.bin (1.00 MiB)"), "\(site): \(log)")
        }
        // ferry clone keeps the files beside the new archive.
        let clone = try JobStore(workspace: fed.server).clone(id: record.id)
        #expect(try JobStore(workspace: fed.server).verify(id: clone.id)?.files.map(\.path) == external.files.map(\.path))
    }

    @Test func aTamperedLargeFileIsRefused() throws {
        let dir = try RT.temporaryDirectory("large-tampered")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fed = try RT.federation(in: dir, start: false)
        defer { fed.stop() }
        let record = try Self.submit(try Self.writeJob(in: dir).job, to: fed)
        let file = record.paths.externalDirectory + "/apps/client/data/weights.bin"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[4242] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: file))

        try RT.startWatchers(fed)
        let run = try RT.waitFinished(fed, record.id)
        #expect(run.state.state == .finishedFailed)
        let reason = run.state.reason ?? ""
        #expect(reason.contains("apps/client/data/weights.bin") && reason.contains("tampered"), "\(reason)")
        #expect(Self.list(fed.server.directory + "/outbox/sent").filter { $0.contains(".file.") }.isEmpty)
    }

    @Test func aClientKilledWhileItsLargeFileArrivesCompletesTheJobAfterARestart() throws {
        let dir = try RT.temporaryDirectory("large-kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (job, _) = try Self.writeJob(in: dir)
        // 24 MiB: three chunks of 8 MiB, so the deployment waits on the file for a while.
        try Self.noise(24 << 20, seed: 9).write(to: URL(fileURLWithPath: job + "/apps/client/data/more.bin"))
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let record = try Self.submit(job, to: fed)
        // SIGKILL as soon as site-1 has verified the deployment and waits for its files (or later, if
        // that moment passed unseen): the job must complete either way.
        let siteJob = try SiteWorkspace.open(fed.clients[0]).jobsDirectory + "/\(record.id)"
        _ = try RT.wait(fed, record.id) { run in
            Self.exists(siteJob + "/pending-files.json") || Self.exists(siteJob + "/deploy.json") || run.state.state.isFinished
        }
        let pending = Self.exists(siteJob + "/pending-files.json") && !Self.exists(siteJob + "/deploy.json")
        fed.watcher("site-1")?.send(SIGKILL)
        try fed.restart("site-1")
        let run = try RT.waitFinished(fed, record.id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(!Self.exists(siteJob + "/files"), "the received copies are gone once placed")
        print("killed site-1 \(pending ? "while its deployment waited for its files" : "after its deployment")")
    }

    /// site-1 SIGKILLed right after it recorded the outcome of a deployment that waited for its large
    /// files (`deploy.json`, or `refused.json` when its policy.yaml refuses the job), before its answer
    /// was queued: the restarted watcher must answer, or the server waits for it until the deployment's
    /// deadline (the job stayed `dispatched`). The watcher is stopped on the inotify event of the
    /// record's rename, before its answer's fsynced writes most of the time. The test checks that the
    /// answer was not queued yet and that a file's arrival completed the deployment (a deploy message
    /// handled last is still in the inbox: the restart answers it as a duplicate), and tries a new job
    /// otherwise (about half of the tries land; at most 12).
    @Test(arguments: ["deploy.json", "refused.json"])
    func aClientKilledBeforeItAnswersAFileDeploymentAnswersAfterARestart(record: String) throws {
        let dir = try RT.temporaryDirectory("large-answer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (job, _) = try Self.writeJob(in: dir)
        // 24 MiB: the deployment usually waits on this file.
        try Self.noise(24 << 20, seed: 9).write(to: URL(fileURLWithPath: job + "/apps/client/data/more.bin"))
        let fed = try RT.federation(in: dir, start: false)
        defer { fed.stop() }
        if record == "refused.json" {
            try "commands:\n  - \"/opt/fl/bin/*\"\n".write(toFile: fed.clients[0] + "/policy.yaml", atomically: true, encoding: .utf8)
        }
        try RT.startWatchers(fed)
        let site1 = try SiteWorkspace.open(fed.clients[0])
        var landed = false
        var missed: [String] = []
        for _ in 1...12 where !landed {
            let id = try Self.submit(job, to: fed).id
            let siteJob = site1.jobsDirectory + "/\(id)"
            _ = try RT.wait(fed, id) { Self.exists(siteJob) || $0.state.state.isFinished }
            let watcher = try #require(fed.watcher("site-1"))
            if RT.waitForRename(of: record, in: siteJob, unless: { Self.exists(siteJob + "/" + record) }, when: { true }) {
                watcher.send(SIGSTOP)
                #expect(RT.waitStopped(watcher.pid))
                let answer = "\(id).result.deploy.site-1.json"
                let queued = Self.exists(site1.directory + "/outbox/" + answer) || Self.exists(site1.directory + "/outbox/sent/" + answer)
                // Completed by a file's arrival: no deploy message is left for the restarted watcher to
                // answer as a duplicate.
                let log = RT.text(siteJob + "/logs/site-1.log")
                let byFile = log.range(of: "waiting for 2 large file(s)").map { log[$0.upperBound...].contains("received apps/client/data/") } == true
                landed = !queued && byFile
                if !landed { missed.append(queued ? "the answer was queued before the kill" : "the deploy message arrived last") }
            } else {
                missed.append("\(record) was written before the watch was set up")
            }
            watcher.send(SIGKILL)
            try fed.restart("site-1")
            let run = try RT.waitFinished(fed, id)
            if record == "refused.json" {
                #expect(run.state.state == .finishedFailed)
                #expect(run.state.sites["site-1"]?.hasPrefix("refused: policy.yaml:1: commands:") == true, "\(run.state.sites)")
            } else {
                #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
                #expect(!Self.exists(siteJob + "/files") && !Self.exists(siteJob + "/pending-files.json"))
            }
        }
        // Rarely (with a fast disk) no try lands: the restarts were still checked, the window was not.
        withKnownIssue("no try killed site-1 between \(record) and its answer", isIntermittent: true) {
            #expect(landed, "\(missed)")
        }
        print("\(record): \(landed ? "the kill landed at try \(missed.count + 1)" : "no try landed") (missed: \(missed))")
    }
}
