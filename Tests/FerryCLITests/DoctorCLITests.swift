import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `ferry doctor`: a local folder passes, a bind mount is a peer that sees everything at once,
/// usage errors exit 2, a read-only folder fails clearly, and nothing is ever left behind.
@Suite struct DoctorCLITests {
    private static let localCheckIDs = ["writable", "atomic_rename", "exclusive_create", "fsync", "hard_links", "name_length",
                                        "case_sensitivity", "free_space", "free_inodes", "clock_skew", "write_throughput"]
    private static let peerCheckIDs = ["peer_same_folder", "peer_lookup", "peer_listing", "peer_close_to_open", "peer_rename",
                                       "peer_exclusive_create", "peer_inotify", "peer_clock_skew"]

    private func json(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "\(text)")
    }

    private func checks(_ report: [String: Any]) -> [String: [String: Any]] {
        var out = [String: [String: Any]]()
        for check in report["checks"] as? [[String: Any]] ?? [] { out[check["id"] as? String ?? ""] = check }
        return out
    }

    /// Runs `mount ARGS`; nil when it worked, else why not (to skip with a printed reason).
    private func mount(_ arguments: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/mount")
        p.arguments = arguments
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch { return "cannot run mount: \(error)" }
        p.waitUntilExit()
        if p.terminationStatus == 0 { return nil }
        return "mount \(arguments.joined(separator: " ")) failed: " +
            String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    private func unmount(_ path: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/umount")
        p.arguments = [path]
        p.standardError = FileHandle.nullDevice
        try? p.run()
        p.waitUntilExit()
    }

    @Test func localFolderPassesWithEveryFieldAndLeavesNothing() throws {
        let dir = try FerryCLI.temporaryDirectory("doctor")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try FerryCLI.run(["doctor", "--share", dir.path, "--json"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let report = try json(r.stdout)
        for key in ["version", "share", "host", "started_at", "checks", "verdict", "summary", "recommended", "exit_code"] {
            #expect(report[key] != nil, "missing \(key)")
        }
        #expect(report["share"] as? String == dir.path)
        #expect(report["peer"] == nil)
        #expect(report["exit_code"] as? Int == 0)
        #expect(report["verdict"] as? String != "fail")
        let byID = checks(report)
        for id in Self.localCheckIDs {
            let check = try #require(byID[id], "missing check \(id)")
            for key in ["title", "status", "value", "meaning", "measurements"] { #expect(check[key] != nil, "\(id) lacks \(key)") }
        }
        for id in ["writable", "atomic_rename", "exclusive_create", "fsync", "case_sensitivity"] {
            #expect(byID[id]?["status"] as? String == "ok", "\(id): \(byID[id] ?? [:])")
        }
        let rename = try #require(byID["atomic_rename"]?["measurements"] as? [String: Double])
        #expect((rename["renames"] ?? 0) > 0 && rename["partial_reads"] == 0 && rename["missing_reads"] == 0, "\(rename)")
        let recommended = try #require(report["recommended"] as? [String: Any])
        for key in ["poll", "poll_seconds", "polling_only", "chunk", "chunk_bytes", "window", "mount_options", "reasons"] {
            #expect(recommended[key] != nil, "recommended lacks \(key)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)

        let text = try FerryCLI.run(["doctor", "--share", dir.path])
        #expect(text.status == 0, "\(text.stderr)")
        for phrase in ["atomic rename", "O_EXCL create", "free space", "verdict: ", "recommended settings", "poll", "window"] {
            #expect(text.stdout.contains(phrase), "\(phrase) missing in \(text.stdout)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func bindMountPeerSeesNamesAtOnce() throws {
        let dir = try FerryCLI.temporaryDirectory("doctor-peer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        try FileManager.default.createDirectory(atPath: a, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: b, withIntermediateDirectories: true)
        if let reason = mount(["--bind", a, b]) {
            print("skipped bindMountPeerSeesNamesAtOnce: \(reason)")
            return
        }
        defer { unmount(b) }
        let r = try FerryCLI.run(["doctor", "--share", a, "--peer", b, "--json", "--timeout", "60s"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let report = try json(r.stdout)
        #expect(report["peer"] as? String == b)
        let byID = checks(report)
        // inotify is judged by how soon its wait returns, so a stalled test host may read it as a
        // warning; every other peer check is ok on one kernel.
        for id in Self.peerCheckIDs {
            let allowed = id == "peer_inotify" ? ["ok", "warning"] : ["ok"]
            #expect(allowed.contains(byID[id]?["status"] as? String ?? "missing"), "\(id): \(byID[id] ?? [:])")
        }
        // ok for lookup and listing means seen within 2 s; on one kernel they are seen at once.
        for id in ["peer_lookup", "peer_listing"] {
            let seconds = (byID[id]?["measurements"] as? [String: Double])?["seconds"]
            #expect(seconds != nil && seconds! < 2, "\(id): \(byID[id] ?? [:])")
        }
        let recommended = try #require(report["recommended"] as? [String: Any])
        #expect(recommended["polling_only"] as? Bool == false)
        #expect(try FileManager.default.contentsOfDirectory(atPath: a).isEmpty)
    }

    @Test func peerThatIsAnotherFolderFailsAtOnce() throws {
        let dir = try FerryCLI.temporaryDirectory("doctor-other")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a").path, other = dir.appendingPathComponent("other").path
        try FileManager.default.createDirectory(atPath: a, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let r = try FerryCLI.run(["doctor", "--share", a, "--peer", other, "--json"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let byID = checks(try json(r.stdout))
        #expect(byID["peer_same_folder"]?["status"] as? String == "fail", "\(byID["peer_same_folder"] ?? [:])")
        for id in Self.peerCheckIDs.dropFirst() {
            #expect(byID[id]?["status"] as? String == "skipped", "\(id): \(byID[id] ?? [:])")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: a).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: other).isEmpty)
    }

    @Test func usageErrorsExitTwo() throws {
        let dir = try FerryCLI.temporaryDirectory("doctor-usage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = try FerryCLI.run(["doctor", "--share", dir.appendingPathComponent("nope").path])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("does not exist"), "\(missing.stderr)")
        #expect(missing.stderr.contains("ferry doctor --share"), "\(missing.stderr)")

        let file = dir.appendingPathComponent("file")
        try Data([1]).write(to: file)
        let notFolder = try FerryCLI.run(["doctor", "--share", file.path])
        #expect(notFolder.status == 2, "\(notFolder.stderr)")
        #expect(notFolder.stderr.contains("not a folder"), "\(notFolder.stderr)")

        let noShare = try FerryCLI.run(["doctor"])
        #expect(noShare.status == 2, "\(noShare.stderr)")
        let badPeer = try FerryCLI.run(["doctor", "--share", dir.path, "--peer", dir.appendingPathComponent("nope").path])
        #expect(badPeer.status == 2, "\(badPeer.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["file"])
    }

    @Test func readOnlyFolderFailsWithAClearMessage() throws {
        let dir = try FerryCLI.temporaryDirectory("doctor-ro")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a").path, ro = dir.appendingPathComponent("ro").path
        try FileManager.default.createDirectory(atPath: a, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: ro, withIntermediateDirectories: true)
        if let reason = mount(["--bind", a, ro]) {
            print("skipped readOnlyFolderFailsWithAClearMessage: \(reason)")
            return
        }
        defer { unmount(ro) }
        if let reason = mount(["-o", "remount,bind,ro", ro]) {
            print("skipped readOnlyFolderFailsWithAClearMessage: \(reason)")
            return
        }
        let r = try FerryCLI.run(["doctor", "--share", ro])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("fail"), "\(r.stdout)")
        #expect(r.stdout.contains("not writable") && r.stdout.contains("Read-only file system"), "\(r.stdout)")
        #expect(r.stdout.contains("verdict: fail"), "\(r.stdout)")

        let j = try FerryCLI.run(["doctor", "--share", ro, "--json"])
        #expect(j.status == 1)
        let report = try json(j.stdout)
        #expect(report["verdict"] as? String == "fail")
        #expect(report["exit_code"] as? Int == 1)
        #expect(checks(report)["writable"]?["status"] as? String == "fail")
        #expect(try FileManager.default.contentsOfDirectory(atPath: a).isEmpty)
    }

    @Test func interruptedDoctorRemovesItsFolder() throws {
        let dir = try FerryCLI.temporaryDirectory("doctor-int")
        defer { try? FileManager.default.removeItem(at: dir) }
        // /proc is never the same folder: the peer checks wait there until interrupted.
        let p = Process()
        p.executableURL = FerryCLI.binary
        p.arguments = ["doctor", "--share", dir.path, "--peer", "/proc", "--timeout", "10m"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, p.isRunning,
              !(try FileManager.default.contentsOfDirectory(atPath: dir.path)).contains(where: { $0.hasPrefix(".ferry-doctor-") }) {
            usleep(5_000)
        }
        #expect(p.isRunning)
        kill(p.processIdentifier, SIGINT)
        FerryCLI.waitForExit(p)
        #expect(p.terminationStatus == 130)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
