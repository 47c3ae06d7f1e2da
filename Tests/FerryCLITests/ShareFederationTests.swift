import FerryShareHarness
import Foundation
import Testing

/// A federation across a real network share: the folder of every workspace is exported by sshd and
/// mounted twice with sshfs (default caching: listings through one mount lag writes through the other
/// by 20 s). The server's watcher sees the share through mount `a`, the clients' watchers through mount
/// `b`, each in its own mount namespace (`unshare -m`) where that mount is bound at the same path, as
/// on hosts that mount one share at one path. A client watcher is killed with SIGKILL mid-job and
/// started again; the job still completes. Needs root (mount namespaces) and FUSE; skipped otherwise.
@Suite(.serialized, .tags(.spawnsProcesses)) struct ShareFederationTests {
    @Test func helloFedavgWithServerAndClientsOnTwoMountsSurvivesAKilledClient() throws {
        guard let (share, mnt, work) = try Namespace.startShare(
            for: "ShareFederationTests.helloFedavgWithServerAndClientsOnTwoMountsSurvivesAKilledClient") else { return }
        defer { share.stop() }
        try """
        name: share
        poll: 500ms
        sites:
          - name: server
            role: server
          - name: site-1
            role: client
          - name: site-2
            role: client
        """.write(toFile: work + "/project.yaml", atomically: true, encoding: .utf8)
        let provision = try Namespace.run(share.a, at: mnt, ["provision", work + "/project.yaml", "-o", mnt + "/fed"])
        #expect(provision.status == 0, "\(provision.output)")
        let ws = mnt + "/fed/share"
        let job = work + "/hello-fedavg"
        try FileManager.default.copyItem(atPath: FerryCLI.repositoryRoot.appendingPathComponent("jobs/hello-fedavg").path, toPath: job)

        var watchers: [String: Process] = [:]
        defer { for p in watchers.values where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        func startWatcher(_ site: String) throws {
            watchers[site] = try Namespace.start(site == "server" ? share.a : share.b, at: mnt,
                                                 ["watch", ws + "/" + site, "--poll", "500ms", "--polling-only"],
                                                 log: work + "/\(site).log")
        }
        for site in ["server", "site-1", "site-2"] { try startWatcher(site) }

        let start = Date()
        let submit = try Namespace.run(share.a, at: mnt, ["submit", job, "--workspace", ws + "/server"])
        #expect(submit.status == 0, "\(submit.output)")
        // stdout is the job id alone on a line (stderr, merged here, says "submitted NAME as ID: …").
        let idLine = submit.output.split(separator: "\n").first { !$0.contains(" ") && $0.first?.isNumber == true }
        let id = try #require(idLine.map(String.init), "\(submit.output)")
        let statePath = share.root + "/export/fed/share/server/jobs/\(id)/state.json"
        func state() -> (state: String, round: Int)? {
            guard let data = FileManager.default.contents(atPath: statePath),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let s = json["state"] as? String else { return nil }
            return (s, json["round"] as? Int ?? 0)
        }
        // Failsafe deadlines only: the job needs seconds; minutes would mean waiting for listings.
        let running = Self.poll(seconds: 240) { state().map { $0.state == "running" && $0.round >= 1 } ?? false }
        #expect(running, "job never reached round 1: \(String(describing: state()))\n\(Self.logs(work))")
        if running, let victim = watchers["site-1"] {
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            try startWatcher("site-1")
        }
        let finished = Self.poll(seconds: 300) { state()?.state.hasPrefix("finished") ?? false }
        let elapsed = Date().timeIntervalSince(start)
        print("share federation: hello-fedavg \(state()?.state ?? "?") in \(String(format: "%.1f", elapsed)) s (server on mount a, clients on mount b, site-1 killed once)")
        #expect(finished && state()?.state == "finished:completed", "\(String(describing: state()))\n\(Self.logs(work))")
        #expect(FileManager.default.fileExists(atPath: share.root + "/export/fed/share/server/jobs/\(id)/models/final.safetensors"))
    }

    private static func poll(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(200_000)
        }
        return condition()
    }

    private static func logs(_ work: String) -> String {
        ["server", "site-1", "site-2"].map { site in
            let text = (try? String(contentsOfFile: work + "/\(site).log", encoding: .utf8)) ?? ""
            return "--- \(site) ---\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// Runs `ferry` in a new mount namespace where `source` is bound at `mountPoint`.
enum Namespace {
    /// Starts the share harness for test `name` with two local folders: `mnt` (where each namespace binds
    /// a mount of the share) and `work`; nil, with the reason printed, where the machine cannot run it
    /// (it needs root for mount namespaces, and FUSE).
    static func startShare(for name: String) throws -> (share: ShareHarness, mnt: String, work: String)? {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else {
            print("SKIPPED \(name): needs root and /usr/bin/unshare for separate mount namespaces")
            return nil
        }
        guard let share = ShareHarness.start(for: name) else { return nil }
        let mnt = share.root + "/mnt", work = share.root + "/work"
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        return (share, mnt, work)
    }

    private static func process(_ source: String, at mountPoint: String, _ arguments: [String]) -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["-m", "--propagation", "private", "sh", "-c", "mount --bind \"$1\" \"$2\" && shift 2 && exec \"$@\"",
                       "sh", source, mountPoint, FerryCLI.binary.path] + arguments
        p.standardInput = FileHandle.nullDevice
        return p
    }

    /// Runs to completion and returns the exit status and the combined output.
    static func run(_ source: String, at mountPoint: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = process(source, at: mountPoint, arguments)
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Starts a long-running command (a watcher) with its output appended to `log`; the process is
    /// `ferry` itself (sh and unshare exec into it), so SIGKILL reaches it.
    static func start(_ source: String, at mountPoint: String, _ arguments: [String], log: String) throws -> Process {
        let p = process(source, at: mountPoint, arguments)
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        return p
    }
}
