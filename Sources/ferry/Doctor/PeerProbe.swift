import FerrySupport
import Foundation

/// The checks `ferry doctor --peer DIR2` makes: writes through DIR, looks through DIR2 (the same
/// folder through another mount, as another host sees it). Writes only inside the scratch folder.
struct PeerProbe {
    let scratch: DoctorScratch
    /// The scratch folder as seen through the peer mount.
    let peerScratch: String
    let share: String
    let peer: String
    /// Longest wait for something written through DIR to show through DIR2, in seconds.
    let limit: Double
    /// How long inotify on DIR2 is given to report a write through DIR.
    let inotifyWait: Double

    /// Seconds until a new name was found by lookup / by listing (nil: not within the limit).
    private(set) var lookupSeconds: Double?
    private(set) var listingSeconds: Double?
    /// Seconds until a rename over a file showed through DIR2 (nil: not within the limit).
    private(set) var renameSeconds: Double?
    /// Whether inotify on DIR2 reported the write made through DIR (nil: not measured).
    private(set) var inotifySeen: Bool?

    init(scratch: DoctorScratch, share: String, peer: String, limit: Double, inotifyWait: Double) {
        self.scratch = scratch
        self.share = share
        self.peer = peer
        self.limit = limit
        self.inotifyWait = inotifyWait
        peerScratch = FileSystem.join(peer, scratch.name)
    }

    private var limitText: String { "within \(ProbeIO.seconds(limit))" }

    /// Runs every peer check in order; stops after the first when DIR2 is not the same folder.
    mutating func run() -> [DoctorCheck] {
        let visible = sameFolder()
        guard visible.status != .fail else {
            let skipped = [("peer_lookup", "new name, by lookup"), ("peer_listing", "new name, by listing"),
                           ("peer_close_to_open", "close-to-open"), ("peer_rename", "rename seen through peer"),
                           ("peer_exclusive_create", "O_EXCL through peer"), ("peer_inotify", "inotify sees peer writes"),
                           ("peer_clock_skew", "clock skew (peer)")].map {
                DoctorCheck(id: $0.0, title: $0.1, status: .skipped, value: "not measured", meaning: "DIR2 does not show DIR's files.")
            }
            return [visible] + skipped
        }
        var checks = [visible]
        checks.append(contentsOf: newNames())
        checks.append(closeToOpen())
        checks.append(renameThroughPeer())
        checks.append(exclusiveThroughPeer())
        checks.append(inotify())
        checks.append(peerClock())
        return checks
    }

    // MARK: same folder

    /// The scratch folder made through DIR must show through DIR2.
    private func sameFolder() -> DoctorCheck {
        var check = DoctorCheck(id: "peer_same_folder", title: "peer shows the same folder", status: .ok, value: "", meaning: "")
        if let a = FileSystem.status(share), let b = FileSystem.status(peer), a.rawValue.st_dev == b.rawValue.st_dev,
           a.rawValue.st_ino != b.rawValue.st_ino {
            check.status = .fail
            check.value = "DIR2 is a different folder on the same file system as DIR"
            check.meaning = "--peer must name the same shared folder through another mount (or another host's path to it)."
            return check
        }
        guard let seconds = ProbeIO.poll(limit: limit, { FileSystem.isDirectory(peerScratch) }) else {
            check.status = .fail
            check.value = "the folder created through DIR is not found through DIR2 \(limitText)"
            check.meaning = "DIR2 is not the same folder as DIR (check the paths), or lookups through it are stale for more than \(ProbeIO.seconds(limit)): ferry cannot exchange files between these two views."
            return check
        }
        check.value = "\(scratch.name) found through DIR2 after \(ProbeIO.seconds(seconds))"
        check.meaning = "DIR and DIR2 are two views of one folder: the checks below measure what one side sees of the other's writes."
        check.measurements = ["seconds": seconds]
        if let a = MountTable.mount(of: share), let b = MountTable.mount(of: peer), a.mountPoint == b.mountPoint,
           MountTable.isNetwork(a.type) {
            check.status = .warning
            check.meaning = "DIR and DIR2 are on the same mount (\(a.mountPoint)): one client cache serves both, so the checks below cannot see another host's delays. Give DIR2 through a second mount of the share (or run doctor on the other host)."
        }
        return check
    }

    // MARK: new names

    /// A new name written through DIR, found through DIR2 by a lookup (stat) and by a listing.
    /// Both views are primed first, as a waiting watcher primes them: the name looked up while
    /// absent (a negative lookup cache), the folder listed before the name exists.
    private mutating func newNames() -> [DoctorCheck] {
        let lookupFolder = scratch.file("lookup"), listingFolder = scratch.file("listing")
        for folder in [lookupFolder, listingFolder] { mkdir(folder, 0o755) }
        let peerLookup = FileSystem.join(peerScratch, "lookup"), peerListing = FileSystem.join(peerScratch, "listing")
        _ = ProbeIO.poll(limit: limit) { FileSystem.isDirectory(peerLookup) && FileSystem.isDirectory(peerListing) }
        let name = "new-name"
        _ = FileSystem.exists(FileSystem.join(peerLookup, name))
        _ = FileSystem.list(peerListing)

        let content = Array("written through DIR\n".utf8)
        let firstCode = ProbeIO.write(content, to: FileSystem.join(lookupFolder, name))
        let secondCode = ProbeIO.write(content, to: FileSystem.join(listingFolder, name))
        let start = ContinuousClock.now
        var lookup: Double?, listing: Double?
        if firstCode == 0 && secondCode == 0 {
            _ = ProbeIO.poll(limit: limit, interval: .milliseconds(20), from: start) {
                if lookup == nil, FileSystem.exists(FileSystem.join(peerLookup, name)) { lookup = ProbeIO.since(start) }
                if listing == nil, FileSystem.list(peerListing).contains(name) { listing = ProbeIO.since(start) }
                return lookup != nil && listing != nil
            }
        }
        lookupSeconds = lookup
        listingSeconds = listing

        var byLookup = DoctorCheck(id: "peer_lookup", title: "new name, by lookup", status: .ok, value: "", meaning: "")
        if let lookup {
            byLookup.value = "found through DIR2 by stat after \(ProbeIO.seconds(lookup))"
            byLookup.measurements = ["seconds": lookup]
            if lookup <= 2 {
                byLookup.meaning = "ferry looks up every name it waits for (the next chunk, the ack, the next message): each hop waits about this long plus the poll interval."
            } else {
                byLookup.status = .warning
                byLookup.meaning = "a name that did not exist stays unseen for \(ProbeIO.seconds(lookup)) (a negative lookup cache): every chunk, ack and message hop waits that long. On NFS mount with lookupcache=positive."
            }
        } else {
            byLookup.status = .fail
            byLookup.value = "a new file written through DIR is not found by stat through DIR2 \(limitText)"
            byLookup.meaning = "ferry finds chunks, acks and messages by looking their names up: through this mount it would wait at least \(ProbeIO.seconds(limit)) per hop. Fix the client's caching (NFS: lookupcache=positive, actimeo; sshfs: dcache_timeout)."
        }

        var byListing = DoctorCheck(id: "peer_listing", title: "new name, by listing", status: .ok, value: "", meaning: "")
        if let listing {
            byListing.value = "listed through DIR2 after \(ProbeIO.seconds(listing))"
            byListing.measurements = ["seconds": listing]
            byListing.meaning = listing <= 2
                ? "listings are fresh: files show in `ls` of the peer mount at once."
                : "listings through DIR2 are stale for \(ProbeIO.seconds(listing)) (the client's directory cache): ferry never waits for a listing, it looks names up, so this costs it nothing; `ls` and your own scripts see new files that late."
        } else {
            byListing.status = .warning
            byListing.value = "a new file written through DIR is not listed through DIR2 \(limitText)"
            byListing.measurements = ["limit_seconds": limit]
            byListing.meaning = "listings through DIR2 are stale for more than \(ProbeIO.seconds(limit)): ferry never waits for a listing, it looks names up, but `ls` and your own scripts may not see new files for minutes; shorten the directory cache (NFS acdirmax, sshfs dcache_timeout)."
        }
        if firstCode != 0 || secondCode != 0 {
            let code = firstCode != 0 ? firstCode : secondCode
            byLookup.status = .fail; byLookup.value = "cannot write through DIR: \(ProbeIO.describe(code))"
            byListing.status = .skipped; byListing.value = "not measured"
        }
        return [byLookup, byListing]
    }

    // MARK: close-to-open

    /// Content written and closed through DIR reads identical through DIR2 right after; then the
    /// same file rewritten in place (which ferry never does) is read again.
    private func closeToOpen() -> DoctorCheck {
        var check = DoctorCheck(id: "peer_close_to_open", title: "close-to-open", status: .ok, value: "", meaning: "")
        let path = scratch.file("close-to-open"), peerPath = FileSystem.join(peerScratch, "close-to-open")
        let first = ProbeIO.pattern(count: 256 << 10, seed: UInt64.random(in: 0...UInt64.max))
        let code = ProbeIO.write(first, to: path)
        guard code == 0 else {
            check.status = .fail
            check.value = "cannot write through DIR: \(ProbeIO.describe(code))"
            check.meaning = "ferry could not write here."
            return check
        }
        _ = ProbeIO.poll(limit: limit) { FileSystem.exists(peerPath) }
        let readBack = ProbeIO.read(peerPath)
        guard readBack == first else {
            check.status = .fail
            check.value = readBack == nil ? "the new file cannot be read through DIR2"
                : "256 KiB written and closed through DIR read back different through DIR2 (\(readBack!.count) bytes)"
            check.meaning = "no close-to-open consistency: a chunk read through the peer may not be what was written. ferry verifies every chunk's SHA-256 and would retry forever. Mount without cache=loose (SMB) or nocto (NFS)."
            return check
        }
        // Rewritten in place, larger: a stale size or page cache would show here.
        let second = ProbeIO.pattern(count: 320 << 10, seed: UInt64.random(in: 0...UInt64.max))
        let rewritten = ProbeIO.write(second, to: path)
        let again = rewritten == 0 ? ProbeIO.read(peerPath) : nil
        check.value = "256 KiB new file: identical through DIR2; rewritten in place: " + (again == second ? "identical" : "stale right after (\(again?.count ?? 0) bytes read)")
        check.measurements = ["rewrite_identical": again == second ? 1 : 0]
        check.meaning = again == second
            ? "what is written and closed through one view is what the other reads when it opens it: chunks are read whole and current."
            : "new files read whole and current through DIR2; a file rewritten in place was read stale, which ferry never does (it publishes new names by rename), so this costs it nothing."
        return check
    }

    // MARK: rename through the peer

    /// A file replaced by rename through DIR (as ferry replaces acks and state files): how long
    /// until DIR2 reads the new content, and never a partial one.
    private mutating func renameThroughPeer() -> DoctorCheck {
        var check = DoctorCheck(id: "peer_rename", title: "rename seen through peer", status: .ok, value: "", meaning: "")
        let path = scratch.file("replaced"), peerPath = FileSystem.join(peerScratch, "replaced")
        let old = [UInt8](repeating: 0x61, count: 64 << 10), new = [UInt8](repeating: 0x62, count: 80 << 10)
        do { try FileSystem.write(old, to: path, durable: false) } catch {
            check.status = .fail; check.value = "\(error)"; check.meaning = "ferry could not write here."
            return check
        }
        _ = ProbeIO.poll(limit: limit) { ProbeIO.read(peerPath) == old }
        do { try FileSystem.write(new, to: path, durable: false) } catch {
            check.status = .fail; check.value = "\(error)"; check.meaning = "ferry could not write here."
            return check
        }
        let start = ContinuousClock.now
        var partial = 0, reads = 0
        let seconds = ProbeIO.poll(limit: limit, interval: .milliseconds(20), from: start) {
            let bytes = ProbeIO.read(peerPath)
            reads += 1
            if bytes == new { return true }
            if bytes != old { partial += 1 }
            return false
        }
        renameSeconds = seconds
        check.measurements = ["reads": Double(reads), "partial_reads": Double(partial)]
        if let seconds { check.measurements["seconds"] = seconds }
        if partial > 0, let seconds {
            check.status = .warning
            check.value = "new content read whole through DIR2 after \(ProbeIO.seconds(seconds)); before that \(partial) of \(reads) reads were neither old nor new (missing, or new content cut to the old size)"
            check.meaning = "for \(ProbeIO.seconds(seconds)) a file replaced by rename reads through DIR2 with stale attributes (the client's attribute cache): ferry ignores an ack or record that does not decode and reads it again at the next poll, so this only delays it; your own tools must not trust such reads either. Shorter caches help (NFS/SMB actimeo=1; sshfs attr_timeout is 1 s already)."
        } else if partial > 0 {
            check.status = .fail
            check.value = "\(partial) of \(reads) reads through DIR2 saw neither the old nor the new file, for \(ProbeIO.seconds(limit))"
            check.meaning = "a file replaced by rename keeps reading partial or missing through the peer: ferry replaces acks and state files that way. Do not use this share for ferry."
        } else if let seconds {
            check.value = "new content read through DIR2 after \(ProbeIO.seconds(seconds)), never a partial file"
            if seconds <= 2 {
                check.meaning = "acks and state files that ferry replaces by rename are seen at once, old or new, whole."
            } else {
                check.status = .warning
                check.meaning = "a file replaced by rename reads old through DIR2 for \(ProbeIO.seconds(seconds)) (attribute cache): a sender sees its receiver's ack that late. Shorten the attribute cache (NFS/SMB actimeo=1, sshfs dcache_timeout=1)."
            }
        } else {
            check.status = .fail
            check.value = "a file replaced by rename through DIR still reads old through DIR2 after \(ProbeIO.seconds(limit))"
            check.meaning = "acks and state files replaced by rename would look unchanged to the other side: transfers would stall. Shorten the attribute cache (NFS/SMB actimeo=1, sshfs dcache_timeout=1)."
        }
        return check
    }

    // MARK: O_EXCL through the peer

    private func exclusiveThroughPeer() -> DoctorCheck {
        let path = scratch.file("exclusive-peer"), peerPath = FileSystem.join(peerScratch, "exclusive-peer")
        _ = FileSystem.exists(peerPath)
        let first = ProbeIO.createExclusive(path)
        guard first == 0 else {
            return DoctorCheck(id: "peer_exclusive_create", title: "O_EXCL through peer", status: .fail,
                               value: "create through DIR: \(ProbeIO.describe(first))", meaning: "ferry could not write here.")
        }
        let second = ProbeIO.createExclusive(peerPath)
        if second == EEXIST {
            return DoctorCheck(id: "peer_exclusive_create", title: "O_EXCL through peer", status: .ok,
                               value: "create through DIR2 of a name just made through DIR: EEXIST",
                               meaning: "the server enforces exclusive creates across clients: two hosts cannot both claim a name.")
        }
        return DoctorCheck(id: "peer_exclusive_create", title: "O_EXCL through peer", status: .fail,
                           value: second == 0 ? "an O_EXCL create through DIR2 succeeded on a name that exists through DIR"
                               : "create through DIR2: \(ProbeIO.describe(second)) instead of EEXIST",
                           meaning: "exclusive creates are not exclusive across clients: two hosts could both think they own a name. Do not use this share for ferry.")
    }

    // MARK: inotify

    /// Whether inotify on DIR2 reports a file written through DIR.
    private mutating func inotify() -> DoctorCheck {
        var check = DoctorCheck(id: "peer_inotify", title: "inotify sees peer writes", status: .ok, value: "", meaning: "")
        let folder = scratch.file("notify"), peerFolder = FileSystem.join(peerScratch, "notify")
        mkdir(folder, 0o755)
        guard ProbeIO.poll(limit: limit, { FileSystem.isDirectory(peerFolder) }) != nil else {
            check.status = .skipped; check.value = "not measured (the folder did not show through DIR2)"
            return check
        }
        let waiter = ChangeWaiter(notifications: true)
        guard waiter.usesNotifications else {
            check.status = .warning
            check.value = "no change notifications on this platform"
            check.meaning = "ferry polls: set the poll interval below."
            inotifySeen = false
            return check
        }
        waiter.watch(peerFolder)
        let start = ContinuousClock.now
        _ = ProbeIO.write([1], to: FileSystem.join(folder, "event"))
        waiter.wait(timeout: .milliseconds(Int64(inotifyWait * 1000)))
        let seconds = ProbeIO.since(start)
        let seen = seconds < inotifyWait * 0.9
        inotifySeen = seen
        check.measurements = ["seconds": seen ? seconds : inotifyWait, "seen": seen ? 1 : 0]
        if seen {
            check.value = "event after \(ProbeIO.seconds(seconds))"
            check.meaning = "a watcher on DIR2 wakes at once for writes made through DIR (one kernel behind both views): the poll interval is only a backstop."
        } else {
            check.status = .warning
            check.value = "no event within \(ProbeIO.seconds(inotifyWait))"
            check.meaning = "inotify does not see writes made through the other mount (as on every network share for another host's writes): ferry finds them by polling, so each hop waits up to one poll interval. Run watchers with the poll below; --polling-only saves the useless inotify watches."
        }
        return check
    }

    // MARK: clock through the peer

    private func peerClock() -> DoctorCheck {
        let path = scratch.file("clock-peer"), peerPath = FileSystem.join(peerScratch, "clock-peer")
        let before = Syscall.realTime()
        let code = ProbeIO.write([0], to: path)
        let after = Syscall.realTime()
        guard code == 0, ProbeIO.poll(limit: limit, { FileSystem.exists(peerPath) }) != nil,
              let modified = FileSystem.info(peerPath)?.modified else {
            return DoctorCheck(id: "peer_clock_skew", title: "clock skew (peer)", status: .skipped,
                               value: "not measured (the file did not show through DIR2)", meaning: "")
        }
        return ShareProbe.skewCheck(id: "peer_clock_skew", title: "clock skew (peer)", modified: modified,
                                    before: before, after: after,
                                    what: "mtime through DIR2 of a file just written through DIR vs this host's clock")
    }
}
