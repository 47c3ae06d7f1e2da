import FerrySupport
import Foundation
import Synchronization

/// The checks `ferry doctor` makes through DIR alone, each inside the scratch folder.
struct ShareProbe {
    let share: String
    let scratch: DoctorScratch
    /// Bytes per second of the write-throughput check, once measured (for the window advice).
    private(set) var writeBytesPerSecond: Double?
    /// Bytes available to this user, once measured.
    private(set) var freeBytes: Int64?

    init(share: String, scratch: DoctorScratch) {
        self.share = share
        self.scratch = scratch
    }

    /// Runs every local check in order.
    mutating func run() -> [DoctorCheck] {
        var checks = [writable(), atomicRename(), exclusiveCreate(), fsyncs(), hardLinks(), nameLength(), caseSensitivity()]
        checks += space()
        checks.append(clockSkew())
        checks.append(throughput())
        return checks
    }

    func writable() -> DoctorCheck {
        DoctorCheck(id: "writable", title: "writable", status: .ok, value: "created \(scratch.name)",
                    meaning: "ferry can create folders and files here (everything doctor writes stays in that folder and is removed at the end).")
    }

    // MARK: atomic rename

    /// Rename over an existing file: a reader must see the old or the new content, whole, never a
    /// partial file or no file at all. A reader thread reads while this thread renames.
    func atomicRename() -> DoctorCheck {
        var check = DoctorCheck(id: "atomic_rename", title: "atomic rename", status: .ok, value: "", meaning: "")
        let target = scratch.file("rename-target")
        let old = [UInt8](repeating: 0x61, count: 64 << 10), new = [UInt8](repeating: 0x62, count: 80 << 10)
        let first = ProbeIO.write(old, to: target)
        if first != 0 { return failed(check, "cannot write a file: \(ProbeIO.describe(first))") }
        // A reader that opened the old file keeps reading it after the rename (POSIX; NFS silly-renames it).
        let opened = open(target, O_RDONLY | O_CLOEXEC)
        let temporary = scratch.file("rename-temporary")
        let written = ProbeIO.write(new, to: temporary)
        if written != 0 { if opened >= 0 { close(opened) }; return failed(check, "cannot write a file: \(ProbeIO.describe(written))") }
        if rename(temporary, target) != 0 {
            let code = errno
            if opened >= 0 { close(opened) }
            return failed(check, "rename over an existing file failed: \(ProbeIO.describe(code))")
        }
        let oldThroughDescriptor = opened >= 0 ? ProbeIO.readAll(opened) : nil
        if opened >= 0 { close(opened) }
        guard ProbeIO.read(target) == new, !FileSystem.exists(temporary) else {
            return failed(check, "after rename the name does not hold the new content")
        }

        // Concurrent: one thread reads the name in a loop while this one replaces it by rename.
        let tally = ReadTally()
        let done = DispatchSemaphore(value: 0)
        let valid: @Sendable ([UInt8]?) -> Int = { bytes in
            guard let bytes else { return 2 }
            if bytes.count == old.count, bytes.allSatisfy({ $0 == 0x61 }) { return 0 }
            if bytes.count == new.count, bytes.allSatisfy({ $0 == 0x62 }) { return 0 }
            return 1
        }
        DispatchQueue.global().async {
            while !tally.stop.load(ordering: .acquiring) {
                tally.record(valid(ProbeIO.read(target)))
            }
            done.signal()
        }
        let start = ContinuousClock.now
        var renames = 0
        var renameError: Int32 = 0
        // Until both sides did enough (the reader may start late), at most 1.5 s.
        while renames < 200 || tally.reads.load(ordering: .relaxed) < 200, ProbeIO.since(start) < 1.5 {
            let content = renames % 2 == 0 ? old : new
            let code = ProbeIO.write(content, to: temporary)
            if code != 0 { renameError = code; break }
            if rename(temporary, target) != 0 { renameError = errno; break }
            renames += 1
        }
        tally.stop.store(true, ordering: .releasing)
        done.wait()
        let reads = tally.reads.load(ordering: .relaxed)
        let partial = tally.partial.load(ordering: .relaxed)
        let missing = tally.missing.load(ordering: .relaxed)
        check.measurements = ["renames": Double(renames), "reads": Double(reads), "partial_reads": Double(partial),
                              "missing_reads": Double(missing)]
        check.value = "\(renames) renames over a file during \(reads) reads: \(partial) partial, \(missing) missing"
        if renameError != 0 { return failed(check, check.value + "; then a rename failed: \(ProbeIO.describe(renameError))") }
        if partial > 0 {
            check.status = .fail
            check.meaning = "a reader saw a partial or mixed file while it was replaced: ferry publishes every chunk, ack and state file by rename and relies on readers seeing the old or the new file whole. Do not use this share for ferry."
            return check
        }
        if missing > 0 {
            check.status = .warning
            check.meaning = "never a partial file, but the name was briefly absent while it was replaced (FUSE file systems such as sshfs resolve paths in user space): ferry's readers treat a missing file as not written yet and look again at the next poll; your own tools reading these files should do the same."
            return check
        }
        if oldThroughDescriptor != old {
            check.status = .warning
            check.meaning = "renames are atomic, but a file opened before it was replaced could not be read to its end afterwards (ESTALE on NFS without silly-rename): ferry retries such reads, at the cost of a re-read."
            return check
        }
        check.meaning = "readers see the old or the new file, never a mixture or a gap: ferry's publish-by-rename is safe here."
        return check
    }

    // MARK: O_EXCL

    func exclusiveCreate() -> DoctorCheck {
        let check = DoctorCheck(id: "exclusive_create", title: "O_EXCL create", status: .ok, value: "", meaning: "")
        let path = scratch.file("exclusive")
        let first = ProbeIO.createExclusive(path)
        if first != 0 { return failed(check, "the first create failed: \(ProbeIO.describe(first))") }
        let second = ProbeIO.createExclusive(path)
        if second == EEXIST {
            return DoctorCheck(id: check.id, title: check.title, status: .ok, value: "second create: EEXIST",
                               meaning: "creating a name that exists fails: ferry's temporary files and locks cannot collide.")
        }
        return failed(check, second == 0 ? "a second O_EXCL create of the same name succeeded" : "second create: \(ProbeIO.describe(second)) instead of EEXIST",
                      meaning: "exclusive creates are not exclusive: two writers could both think they own a name. Do not use this share for ferry.")
    }

    // MARK: fsync

    func fsyncs() -> DoctorCheck {
        var check = DoctorCheck(id: "fsync", title: "fsync", status: .ok, value: "", meaning: "")
        let path = scratch.file("fsync")
        let start = ContinuousClock.now
        let file = ProbeIO.write(ProbeIO.pattern(count: 1 << 20, seed: 7), to: path, sync: true)
        let fileSeconds = ProbeIO.since(start)
        if file != 0 {
            return failed(check, "fsync of a file: \(ProbeIO.describe(file))",
                          meaning: "ferry fsyncs every file before it publishes it and stops when that fails: it cannot run here.")
        }
        let folder = ProbeIO.syncFolder(scratch.path)
        check.measurements = ["file_seconds": fileSeconds]
        if folder != 0 {
            check.status = .warning
            check.value = "file: ok (1 MiB in \(ProbeIO.seconds(fileSeconds))); folder: \(ProbeIO.describe(folder))"
            check.meaning = "files are durable, but a folder cannot be fsynced: ferry goes on (it is best effort), and a rename may be lost if the server crashes right after it; resumable transfers redo that step."
            return check
        }
        check.value = "file and folder: ok (1 MiB file in \(ProbeIO.seconds(fileSeconds)))"
        check.meaning = "data and renames can be made durable: a crash of this host or the server loses nothing ferry has published."
        return check
    }

    // MARK: hard links

    func hardLinks() -> DoctorCheck {
        let check = DoctorCheck(id: "hard_links", title: "hard links", status: .ok, value: "", meaning: "")
        let from = scratch.file("link-source"), to = scratch.file("link-target")
        let written = ProbeIO.write([1, 2, 3], to: from)
        if written != 0 { return failed(check, "cannot write a file: \(ProbeIO.describe(written))") }
        if link(from, to) != 0 {
            let code = errno
            return DoctorCheck(id: check.id, title: check.title, status: .warning, value: "link: \(ProbeIO.describe(code))",
                               meaning: "no hard links: ferry copies an outgoing payload before sending it (a model's size in extra disk and time) and moves received results instead of linking them. Keep workspaces on a local disk if you can.")
        }
        let count = FileSystem.status(from).map { Int($0.linkCount) } ?? 0
        return DoctorCheck(id: check.id, title: check.title, status: .ok, value: count >= 2 ? "link made (link count 2)" : "link made (the share reports a link count of \(count))",
                           meaning: "ferry links payloads and results into place instead of copying them.",
                           measurements: ["link_count": Double(count)])
    }

    // MARK: names

    func nameLength() -> DoctorCheck {
        var longest = 0
        var lastError: Int32 = 0
        for length in [255, 200, 143, 128, 100, 64, 32] {
            let name = String(repeating: "n", count: length - 1) + "."
            let code = ProbeIO.createExclusive(scratch.file(name))
            if code == 0 { longest = length; break }
            lastError = code
        }
        var check = DoctorCheck(id: "name_length", title: "long file names", status: .ok, value: "", meaning: "",
                                measurements: ["bytes": Double(longest)])
        switch longest {
        case 255:
            check.value = "255 bytes"
            check.meaning = "the usual limit: job, site and file names are fine."
        case 100...:
            check.status = .warning
            check.value = "\(longest) bytes (longer: \(ProbeIO.describe(lastError)))"
            check.meaning = "names over \(longest) bytes fail (encrypted or old file systems): ferry adds up to 40 bytes to a file name for its temporary files, so keep job, site and model file names under \(longest - 40) bytes."
        default:
            check.status = .fail
            check.value = longest == 0 ? "not even 32 bytes: \(ProbeIO.describe(lastError))" : "\(longest) bytes"
            check.meaning = "ferry's own names (temporary files, transfer ids) need about 100 bytes: it cannot run here."
        }
        return check
    }

    func caseSensitivity() -> DoctorCheck {
        let check = DoctorCheck(id: "case_sensitivity", title: "case sensitivity", status: .ok, value: "", meaning: "")
        let upper = scratch.file("Case-Probe"), lower = scratch.file("case-probe")
        let created = ProbeIO.createExclusive(upper)
        if created != 0 { return failed(check, "cannot create a file: \(ProbeIO.describe(created))") }
        let collides = ProbeIO.createExclusive(lower) == EEXIST
        if collides {
            return DoctorCheck(id: check.id, title: check.title, status: .warning, value: "case-insensitive: Case-Probe and case-probe are one file",
                               meaning: "names that differ only in case collide (SMB, macOS, Windows servers): ferry's own names are lower case, but give sites, jobs and model files names that differ in more than case.",
                               measurements: ["case_sensitive": 0])
        }
        return DoctorCheck(id: check.id, title: check.title, status: .ok, value: "case-sensitive: Case-Probe and case-probe are two files",
                           meaning: "names that differ in case are distinct, as on a local Linux disk.",
                           measurements: ["case_sensitive": 1])
    }

    // MARK: space

    mutating func space() -> [DoctorCheck] {
        var info = statvfs()
        guard statvfs(share, &info) == 0 else {
            let code = errno
            return [DoctorCheck(id: "free_space", title: "free space", status: .warning, value: "statvfs: \(ProbeIO.describe(code))",
                                meaning: "the share does not report its free space: ferry cannot check for room before a transfer.")]
        }
        let unit = Int64(info.f_frsize > 0 ? info.f_frsize : info.f_bsize)
        let free = Int64(info.f_bavail) * unit, total = Int64(info.f_blocks) * unit
        freeBytes = free
        var space = DoctorCheck(id: "free_space", title: "free space", status: .ok,
                                value: "\(ByteCount.format(free)) free of \(ByteCount.format(total)) (\(free) bytes available to this user)",
                                meaning: "a transfer holds at most window × chunk on the share (32 MiB with the defaults); a job needs room for its models in every inbox it sends to.",
                                measurements: ["free_bytes": Double(free), "total_bytes": Double(total)])
        if total == 0 {
            space.status = .warning
            space.value = "not reported (0 bytes total)"
            space.meaning = "the share does not report its size (some FUSE and SMB servers): make sure there is room for every model the federation sends."
        } else if free < 1 << 30 {
            space.status = .warning
            space.meaning = "less than 1 GiB free: transfers of large models will wait for room; free space on the share."
        }
        let files = Int64(info.f_files), freeFiles = Int64(info.f_favail)
        var inodes = DoctorCheck(id: "free_inodes", title: "free inodes", status: .ok,
                                 value: "\(freeFiles) free of \(files) (files and folders)",
                                 meaning: "every chunk, ack and message is a file: a transfer needs a few dozen at a time.",
                                 measurements: ["free_inodes": Double(freeFiles), "total_inodes": Double(files)])
        if files == 0 {
            inodes.value = "not reported (0 inodes total)"
            inodes.meaning = "the file system allocates inodes dynamically or does not report them (btrfs, FUSE, SMB): nothing to watch."
        } else if freeFiles < 10_000 {
            inodes.status = .warning
            inodes.meaning = "fewer than 10,000 files can still be created: a busy federation may run out before the disk is full; remove old files or grow the file system."
        }
        return [space, inodes]
    }

    // MARK: clock

    func clockSkew() -> DoctorCheck {
        let check = DoctorCheck(id: "clock_skew", title: "clock skew (share)", status: .ok, value: "", meaning: "")
        let path = scratch.file("clock")
        let before = Syscall.realTime()
        let written = ProbeIO.write([0], to: path)
        let after = Syscall.realTime()
        guard written == 0, let modified = FileSystem.info(path)?.modified else {
            return failed(check, "cannot write and stat a file: \(ProbeIO.describe(written == 0 ? errno : written))")
        }
        return Self.skewCheck(id: check.id, title: check.title, modified: modified, before: before, after: after,
                              what: "mtime of a file just written through DIR vs this host's clock")
    }

    /// Judges a file's mtime against this host's clock read just before and after it was written.
    static func skewCheck(id: String, title: String, modified: Double, before: Double, after: Double, what: String) -> DoctorCheck {
        let wholeSeconds = modified == modified.rounded(.down)
        // An mtime in whole seconds may be up to 1 s behind the write; that is resolution, not skew.
        let low = before - (wholeSeconds ? 1 : 0), high = after
        let skew = modified < low ? modified - low : modified > high ? modified - high : 0
        let centre = modified - (before + after) / 2
        var check = DoctorCheck(id: id, title: title, status: .ok, value: "", meaning: "",
                                measurements: ["skew_seconds": skew, "offset_seconds": centre,
                                               "resolution_seconds": wholeSeconds ? 1 : 0])
        let resolution = wholeSeconds ? "; mtimes in whole seconds, so known to ±1 s" : ""
        if abs(skew) <= 2 {
            let shown = wholeSeconds ? skew : centre
            check.value = "\(shown >= 0 ? "+" : "")\(formatFixed(shown, 3)) s (\(what)\(resolution))"
            check.meaning = "the share's clock agrees with this host's: expiry of abandoned transfers and the times ferry reports are right."
        } else {
            check.status = .warning
            check.value = "\(skew >= 0 ? "+" : "")\(formatFixed(skew, 1)) s (\(what)\(resolution))"
            check.meaning = "the server stamps files \(formatFixed(abs(skew), 1)) s \(skew > 0 ? "ahead of" : "behind") this host: ferry compares mtimes with this host's clock to expire abandoned transfers, so they expire that much \(skew > 0 ? "later" : "earlier"). Run NTP (chrony, systemd-timesyncd) on every host and on the server."
        }
        return check
    }

    // MARK: throughput

    /// Writes 16 MiB and fsyncs it: the rate that sizes the transfer window.
    mutating func throughput() -> DoctorCheck {
        let path = scratch.file("throughput")
        let bytes = ProbeIO.pattern(count: 16 << 20, seed: UInt64.random(in: 0...UInt64.max))
        let start = ContinuousClock.now
        let code = ProbeIO.write(bytes, to: path, sync: true)
        let seconds = max(ProbeIO.since(start), 1e-6)
        FileSystem.remove(path)
        if code != 0 {
            return DoctorCheck(id: "write_throughput", title: "write throughput", status: .warning, value: "writing 16 MiB failed: \(ProbeIO.describe(code))",
                               meaning: "a write of 16 MiB failed (a quota or a full share?): transfers of models will fail the same way.")
        }
        let rate = Double(bytes.count) / seconds
        writeBytesPerSecond = rate
        return DoctorCheck(id: "write_throughput", title: "write throughput", status: .ok,
                           value: "\(formatFixed(rate / 1_048_576, 1)) MiB/s (16 MiB written and fsynced in \(ProbeIO.seconds(seconds)))",
                           meaning: "sizes the transfer window below: enough chunks in flight to keep this rate while a chunk or an ack waits to be seen.",
                           measurements: ["bytes_per_second": rate, "seconds": seconds])
    }

    // MARK: helpers

    private func failed(_ check: DoctorCheck, _ value: String, meaning: String? = nil) -> DoctorCheck {
        var out = check
        out.status = .fail
        out.value = value
        out.meaning = meaning ?? "ferry needs this to work on a share: do not use this share for ferry until it does."
        return out
    }
}

/// Counts of the reader thread in the atomic-rename check.
private final class ReadTally: Sendable {
    let stop = Atomic<Bool>(false)
    let reads = Atomic<Int>(0)
    let partial = Atomic<Int>(0)
    let missing = Atomic<Int>(0)

    /// 0 whole, 1 partial or mixed, 2 absent.
    func record(_ outcome: Int) {
        reads.add(1, ordering: .relaxed)
        if outcome == 1 { partial.add(1, ordering: .relaxed) }
        if outcome == 2 { missing.add(1, ordering: .relaxed) }
    }
}
