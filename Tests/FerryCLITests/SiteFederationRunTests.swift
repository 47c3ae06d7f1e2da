import Foundation
import Testing

/// Federations made with `ferry site init` / `ferry federation add` / `ferry site join`, running jobs with
/// `ferry watch` processes.
@Suite(.serialized, .tags(.spawnsProcesses)) struct SiteFederationRunTests {
    /// Every site in its own folder tree, each mounting the one share at its own path (a bind mount in
    /// its own mount namespace), so the share-relative paths are all that ties them together.
    @Test func federationOfSeparateSitesWithTheirOwnMountPointsRunsAJobToTheEnd() throws {
        let name = "SiteFederationRunTests.federationOfSeparateSitesWithTheirOwnMountPointsRunsAJobToTheEnd"
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else {
            print("SKIPPED \(name): needs root and /usr/bin/unshare for bind mounts in separate mount namespaces")
            return
        }
        let root = try FerryCLI.temporaryDirectory("sitefed").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        func mount(_ site: String) -> String { root + "/hosts/\(site)/mnt-\(site)" }
        for site in ["server", "site-1", "site-2"] {
            try FileManager.default.createDirectory(atPath: mount(site), withIntermediateDirectories: true)
        }
        let share = root + "/share"
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        let fed = try SiteFederation.build(root: root, share: mount) { site, args in
            try Namespace.run(share, at: mount(site), args)
        }
        // Shared paths are recorded relative to the share; each site maps it to its own mount point.
        let serverYAML = try String(contentsOfFile: fed.workspace("server") + "/site.yaml", encoding: .utf8)
        #expect(serverYAML.contains("share: \"\(mount("server"))\""), "\(serverYAML)")
        #expect(serverYAML.contains("inbox: \"inboxes/site-1\""), "\(serverYAML)")
        #expect(FileManager.default.fileExists(atPath: share + "/federation-study.yaml"))
        #expect(!FileManager.default.fileExists(atPath: mount("server") + "/federation-study.yaml"), "written outside the namespace")

        let job = try SiteFederation.helloJob(in: root, minClients: 2, rounds: 2)
        var watchers: [String: Process] = [:]
        defer { for p in watchers.values where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        for site in ["server", "site-1", "site-2"] {
            watchers[site] = try Namespace.start(share, at: mount(site), ["watch", fed.workspace(site), "--poll", "200ms"],
                                                 log: root + "/\(site).log")
        }
        let submit = try Namespace.run(share, at: mount("server"), ["submit", job, "--workspace", fed.workspace("server")])
        #expect(submit.status == 0, "\(submit.output)")
        let id = try #require(SiteFederation.jobID(submit.output), "\(submit.output)")
        let finished = SiteFederation.poll { (fed.jobState(id)?["state"] as? String)?.hasPrefix("finished") ?? false }
        let state = fed.jobState(id)
        #expect(finished && state?["state"] as? String == "finished:completed", "\(String(describing: state))\n\(Self.logs(root))")
        #expect(FileManager.default.fileExists(atPath: fed.workspace("server") + "/jobs/\(id)/models/final.safetensors"))
        #expect(try fed.leakedPrivateKeys() == [])
    }

    /// A client removed while a round waits for it: the round goes on with the other client (min_clients 1)
    /// instead of waiting for the 1 h round timeout, the next round leaves it out, and the removed client
    /// stops its running executor and takes no more work. A later job naming it is refused at submission.
    @Test func removedSiteIsRefusedAndNotWaitedFor() throws {
        let root = try FerryCLI.temporaryDirectory("revoke").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (fed, id, release, watchers) = try Self.removeSite2WhileItTrains(root: root, minClients: 1)
        defer { Self.stop(watchers) }
        defer { _ = FileManager.default.createFile(atPath: release, contents: nil) }  // ends an executor left running
        let finished = SiteFederation.poll { (fed.jobState(id)?["state"] as? String)?.hasPrefix("finished") ?? false }
        let state = fed.jobState(id)
        #expect(finished && state?["state"] as? String == "finished:completed", "\(String(describing: state))\n\(Self.logs(root))")
        #expect((state?["sites"] as? [String: String])?["site-2"] == "removed", "\(String(describing: state))")
        let round1 = try String(contentsOfFile: fed.workspace("server") + "/jobs/\(id)/rounds/round-0001.json", encoding: .utf8)
        #expect(round1.contains("removed from the federation"), "\(round1)")
        let round2 = try String(contentsOfFile: fed.workspace("server") + "/jobs/\(id)/rounds/round-0002.json", encoding: .utf8)
        #expect(!round2.contains("site-2"), "\(round2)")

        // site-2 finds itself removed: it stops its running executor and the job, with the reason in its logs.
        let executor = try #require(Int32((try? String(contentsOfFile: root + "/pid-site-2", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""), "no pid of site-2's executor")
        let stopped = SiteFederation.poll {
            kill(executor, 0) != 0 && FileManager.default.fileExists(atPath: fed.workspace("site-2") + "/jobs/\(id)/aborted.json")
        }
        #expect(stopped, "site-2's executor \(executor) still runs\n\(Self.logs(root))")
        let clientLog = (try? String(contentsOfFile: fed.workspace("site-2") + "/logs/watcher.log", encoding: .utf8)) ?? ""
        #expect(clientLog.contains("this site's key was revoked"), "\(clientLog)")
        #expect(clientLog.contains("job \(id): job stopped by this site's removal from the federation: this site's key was revoked"), "\(clientLog)")
        let jobLog = (try? String(contentsOfFile: fed.workspace("site-2") + "/jobs/\(id)/logs/site-2.log", encoding: .utf8)) ?? ""
        #expect(jobLog.contains("stopping \(id)/train-r0001: this site's key was revoked"), "\(jobLog)")

        // A new job that names the removed site is refused at submission.
        let named = try SiteFederation.helloJob(in: root + "/named", minClients: 1)
        let jobFile = named + "/job.yaml"
        try (try String(contentsOfFile: jobFile, encoding: .utf8)).replacingOccurrences(of: "client: all", with: "client: [site-1, site-2]")
            .write(toFile: jobFile, atomically: true, encoding: .utf8)
        let refusedJob = try FerryCLI.run(["submit", named, "--workspace", fed.workspace("server")])
        #expect(refusedJob.status == 1)
        #expect(refusedJob.stderr.contains("site-2"), "\(refusedJob.stderr)")
    }

    /// A client removed while the round waits for it, when the others are fewer than min_clients: the
    /// job fails at once with a reason that names it, not after the 1 h round timeout.
    @Test func removingASiteBelowMinClientsFailsTheRoundWithTheReason() throws {
        let root = try FerryCLI.temporaryDirectory("revokefail").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (fed, id, release, watchers) = try Self.removeSite2WhileItTrains(root: root, minClients: 2)
        defer { Self.stop(watchers) }
        defer { _ = FileManager.default.createFile(atPath: release, contents: nil) }
        let finished = SiteFederation.poll { (fed.jobState(id)?["state"] as? String)?.hasPrefix("finished") ?? false }
        let state = fed.jobState(id)
        #expect(finished && state?["state"] as? String == "finished:failed", "\(String(describing: state))\n\(Self.logs(root))")
        let reason = state?["reason"] as? String ?? ""
        #expect(reason.contains("min_clients 2") && reason.contains("site-2: failed: removed from the federation"), "\(reason)")
    }

    /// A federation of server, site-1 and site-2 (site init / add / join) running hello-fedavg (2 rounds),
    /// where site-2's executor says it started and then waits for the file `release`: once it runs, site-2
    /// is removed with `ferry federation remove`. So its result can only arrive after the removal.
    private static func removeSite2WhileItTrains(root: String, minClients: Int) throws
        -> (fed: SiteFederation, id: String, release: String, watchers: [Process]) {
        let fed = try SiteFederation.build(root: root, share: { _ in root + "/share" }) { _, args in
            let r = try FerryCLI.run(args)
            return (r.status, r.stdout + r.stderr)
        }
        let started = root + "/started-site-2"
        let release = root + "/release-site-2"
        let command = "[sh, -c, 'if [ \"$FERRY_SITE\" = site-2 ]; then echo $$ > \(root)/pid-site-2; touch \(started); while [ ! -e \(release) ]; do sleep 0.1; done; fi; "
            + "exec ferry-example-trainer --input \"$FERRY_INPUT_MODEL\" --output \"$FERRY_OUTPUT_MODEL\" --result \"$FERRY_RESULT\" --site \"$FERRY_SITE\" --features 1024']"
        let job = try SiteFederation.helloJob(in: root, minClients: minClients, rounds: 2, clientCommand: command)
        let watchers = try startWatchers(fed, root: root)
        let submit = try FerryCLI.run(["submit", job, "--workspace", fed.workspace("server")])
        #expect(submit.status == 0, "\(submit.stderr)")
        let id = try #require(SiteFederation.jobID(submit.stdout), "\(submit.stdout)")
        #expect(SiteFederation.poll { FileManager.default.fileExists(atPath: started) },
                "\(String(describing: fed.jobState(id)))\n\(logs(root))")
        let remove = try FerryCLI.run(["federation", "remove", fed.workspace("server"), "site-2"])
        #expect(remove.status == 0, "\(remove.stderr)")
        #expect(remove.stdout.contains("serial 3"), "\(remove.stdout)")
        return (fed, id, release, watchers)
    }

    /// `ferry watch` for every site, output in `root/<site>.log`.
    static func startWatchers(_ fed: SiteFederation, root: String) throws -> [Process] {
        try (["server"] + fed.clients).map { site in
            let p = Process()
            p.executableURL = FerryCLI.binary
            p.arguments = ["watch", fed.workspace(site), "--poll", "100ms"]
            let log = root + "/\(site).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            p.standardOutput = handle
            p.standardError = handle
            try p.run()
            return p
        }
    }

    static func stop(_ watchers: [Process]) {
        for p in watchers where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }

    static func logs(_ root: String) -> String {
        ["server", "site-1", "site-2"].map { site in
            let text = (try? String(contentsOfFile: root + "/\(site).log", encoding: .utf8)) ?? ""
            let watcher = (try? String(contentsOfFile: root + "/hosts/\(site)/ws/logs/watcher.log", encoding: .utf8)) ?? ""
            return "--- \(site) ---\n" + (text + watcher).split(separator: "\n").suffix(20).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
