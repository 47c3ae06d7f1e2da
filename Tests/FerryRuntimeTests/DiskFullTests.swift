import FerryRuntime
import FerryWorkspace
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real full disk: a size-limited tmpfs mounted over a site's `jobs/` folder (root only; skipped with
/// the reason printed where `mount` fails), filled, then grown with `mount -o remount,size=…`. The job
/// pauses instead of failing, leaves no partial file, and completes with the same final model as an
/// undisturbed run once space returns.
@Suite(.tags(.spawnsProcesses), .serialized) struct DiskFullTests {
    /// A client script whose output depends on the site and the round (a real average), and which fills
    /// the disk at `$FILL` when it runs as site-1 in round 2 (once).
    static let script = """
    set -e
    n=${FERRY_SITE#site-}
    if [ -n "$FILL" ] && [ "$n" = 1 ] && [ "$FERRY_ROUND" = 2 ] && [ ! -e "$FILL.done" ]; then
      : > "$FILL.done"
      dd if=/dev/zero of="$FILL" bs=64k 2>/dev/null || true
    fi
    ferry model synth "$FERRY_OUTPUT_MODEL" --like llama-tiny --seed $((FERRY_ROUND * 10 + n)) > /dev/null
    printf '{"num_samples": %s, "metrics": {"loss": %s}}' "$n" "$FERRY_ROUND" > "$FERRY_RESULT"

    """

    /// A 2-round fedavg job with a llama-tiny initial model (0.66 MiB).
    static func writeJob(in dir: String, fill: String, roundTimeout: String = "600s") throws -> String {
        let job = try RT.writeJob(in: dir, name: "diskfull", server: .init(rounds: 2, roundTimeout: roundTimeout, extra: "initial_model: init.safetensors"),
                                  command: ["sh", "synth.sh"], env: ["FILL": fill], files: ["synth.sh": script])
        try Tmpfs.run(RT.ferryBinary, ["model", "synth", job + "/init.safetensors", "--like", "llama-tiny", "--seed", "7"])
        return job
    }

    /// The final model of the job run on an ordinary disk.
    static func referenceModel(in dir: String) throws -> Data {
        let job = try writeJob(in: dir + "/reference-job", fill: "")
        let fed = try RT.federation(in: dir + "/reference")
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id, timeout: .seconds(180))
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        let final = try #require(run.finalModel)
        return try #require(FileManager.default.contents(atPath: final))
    }

    /// A federation (watchers not started) whose site-1 keeps its `jobs/` on a fresh 8 MiB tmpfs; nil
    /// (the reason printed) where a tmpfs cannot be mounted.
    static func federationWithSite1OnTmpfs(in dir: String) throws -> (LocalFederation, SiteWorkspace, Tmpfs)? {
        let fed = try RT.federation(in: dir, start: false)
        let site1 = try SiteWorkspace.open(try #require(fed.clients.first { $0.hasSuffix("site-1") }))
        try FileManager.default.createDirectory(atPath: site1.jobsDirectory, withIntermediateDirectories: true)
        guard let mount = Tmpfs.mount(at: site1.jobsDirectory, size: "8m") else { return nil }
        return (fed, site1, mount)
    }

    @Test func serverWithAFullDiskPausesAndCompletesOnceSpaceReturns() throws {
        let dir = try RT.temporaryDirectory("diskfull-server")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fed = try RT.federation(in: dir, start: false)
        let jobs = fed.server.jobsDirectory
        guard let mount = Tmpfs.mount(at: jobs, size: "8m") else { return }
        defer { mount.unmount() }
        defer { fed.stop() }
        let reference = try Self.referenceModel(in: dir)
        let id = try fed.submit(try Self.writeJob(in: dir + "/job", fill: "")).id
        // Room for the state files, not for a model (the clients' results are copied into the round
        // folder: their inboxes are on another file system).
        try mount.fill(leaving: 160 << 10)
        try RT.startWatchers(fed)

        let paused = try RT.wait(fed, id, timeout: .seconds(120)) { $0.state.paused != nil }
        let text = try #require(paused.state.paused, "the job never paused: \(paused.state.state.rawValue) \(paused.state.reason ?? "")")
        #expect(!paused.state.state.isFinished)
        #expect(text.contains(jobs) && text.contains("is full") && text.contains("needed"), "\(text)")
        let status = try Tmpfs.run(RT.ferryBinary, ["status", id, "--workspace", fed.server.directory])
        #expect(status.contains("paused") && status.contains("is full"), "\(status)")
        let list = try Tmpfs.run(RT.ferryBinary, ["jobs", "--workspace", fed.server.directory])
        #expect(list.contains("(paused)") && list.contains("\(id)  paused: waiting for disk space"), "\(list)")
        #expect(Tmpfs.partialFiles(under: jobs).isEmpty, "\(Tmpfs.partialFiles(under: jobs))")
        #expect(fed.deadWatcher == nil, "the watchers keep running")

        try mount.resize("64m")
        let run = try RT.waitFinished(fed, id, timeout: .seconds(180))
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.state.paused == nil)
        let final = try #require(run.finalModel)
        #expect(FileManager.default.contents(atPath: final) == reference, "same final model as an undisturbed run")
    }

    @Test func clientWhoseExecutorFillsTheDiskPausesAndTheJobCompletes() throws {
        let dir = try RT.temporaryDirectory("diskfull-client")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let (fed, site1, mount) = try Self.federationWithSite1OnTmpfs(in: dir) else { return }
        let jobs = site1.jobsDirectory
        defer { mount.unmount() }
        defer { fed.stop() }
        let reference = try Self.referenceModel(in: dir)
        let filler = jobs + "/filler"
        let id = try fed.submit(try Self.writeJob(in: dir + "/job", fill: filler)).id
        try RT.startWatchers(fed)

        // Round 2 on site-1: the executor fills the disk and fails; the task waits instead of failing.
        let watcherLog = site1.logsDirectory + "/watcher.log"
        let deadline = ContinuousClock.now + .seconds(120)
        var log = ""
        while ContinuousClock.now < deadline, !log.contains("waits for disk space") {
            if let dead = fed.deadWatcher { Issue.record("watcher \(dead.site) died: \(dead.outputTail())"); return }
            usleep(50_000)
            log = (try? String(contentsOfFile: watcherLog, encoding: .utf8)) ?? ""
        }
        #expect(log.contains("task train-r0002 waits for disk space"), "\(log)")
        #expect(log.contains(jobs) && log.contains("is full"), "the folder that is full is named: \(log)")
        // The server learns of it: the site's state and the job's `paused` name the full folder.
        let during = try RT.wait(fed, id, timeout: .seconds(120)) { $0.state.sites["site-1"]?.contains("paused") == true }
        #expect(!during.state.state.isFinished, "\(during.state.reason ?? "")")
        #expect(during.state.sites["site-1"]?.contains("waiting for disk space") == true, "\(during.state.sites)")
        #expect(during.state.paused?.hasPrefix("site-1: waiting for disk space") == true && during.state.paused?.contains(jobs) == true,
                "\(during.state.paused ?? "not paused")")
        let task = jobs + "/\(id)/tasks/train-r0002"
        #expect(!FileManager.default.fileExists(atPath: task + "/output.safetensors"), "no partial output")
        #expect(!FileManager.default.fileExists(atPath: task + "/outcome.json"), "not recorded as failed")
        #expect(Tmpfs.partialFiles(under: jobs).isEmpty, "\(Tmpfs.partialFiles(under: jobs))")
        #expect(fed.deadWatcher == nil, "the watchers keep running")

        try mount.resize("64m")
        let run = try RT.waitFinished(fed, id, timeout: .seconds(180))
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.rounds.last?.clients["site-1"]?.status == "ok")
        #expect(run.state.paused == nil)
        let final = try #require(run.finalModel)
        #expect(FileManager.default.contents(atPath: final) == reference, "same final model as an undisturbed run")
    }
}

/// A size-limited tmpfs mounted for a test.
struct Tmpfs {
    let path: String

    /// Mounts a tmpfs of `size` at `path`; nil (with the reason printed) where that is not possible.
    static func mount(at path: String, size: String) -> Tmpfs? {
        do {
            _ = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
            return Tmpfs(path: path)
        } catch {
            print("skipped: cannot mount a tmpfs (needs root): \(error)")
            return nil
        }
    }

    /// Gives the mount a new size (space returns).
    func resize(_ size: String) throws { _ = try Tmpfs.run("/bin/mount", ["-o", "remount,size=\(size)", path]) }

    /// Lazily unmounts it (a watcher may still hold files open).
    func unmount() { _ = try? Tmpfs.run("/bin/umount", ["-l", path]) }

    /// Takes all free space but `leaving` bytes with an allocated filler file.
    func fill(leaving: Int64) throws {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw CocoaError(.fileReadUnknown) }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        let fd = open(path + "/.filler", O_CREAT | O_WRONLY, 0o644)
        defer { close(fd) }
        #expect(fd >= 0 && posix_fallocate(fd, 0, off_t(max(free - leaving, 4096))) == 0)
    }

    /// Files under `dir` that only a half-done write leaves: temporary names of atomic writes and copies.
    static func partialFiles(under dir: String) -> [String] {
        let names = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? []
        return names.filter { name in
            let last = (name as NSString).lastPathComponent
            return last.contains(".tmp-") || last.hasSuffix(".copying") || last.hasSuffix(".linking")
        }
    }

    /// Runs `tool arguments` and returns its output; throws with its output when it fails.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let (status, text) = try RT.run(tool, arguments)
        guard status == 0 else {
            throw RuntimeError.federation("\(tool) \(arguments.joined(separator: " ")): status \(status): \(text)")
        }
        return text
    }
}
