import FerrySupport
import Foundation

/// Turns what `ferry doctor` measured into a verdict and the settings to use on the share.
struct DoctorAdvisor {
    /// The most bytes of chunks the recommended window puts on the share per transfer and inbox.
    static let maxInFlight: Int64 = 256 << 20

    var mount: ShareMount?
    var peerMount: ShareMount?
    /// Whether `--peer` was given (and DIR2 showed DIR's files).
    var peerMeasured: Bool
    var lookupSeconds: Double?
    var listingSeconds: Double?
    var renameSeconds: Double?
    var inotifySeen: Bool?
    var writeBytesPerSecond: Double?
    var freeBytes: Int64?
    var limit: Double

    /// The worst status among `checks` (skipped ones do not count).
    static func verdict(_ checks: [DoctorCheck]) -> DoctorStatus {
        checks.map(\.status).filter { $0 != .skipped }.max() ?? .ok
    }

    /// One sentence for the verdict.
    static func summary(_ checks: [DoctorCheck]) -> String {
        switch verdict(checks) {
        case .fail:
            let failed = checks.filter { $0.status == .fail }.map(\.title).joined(separator: ", ")
            return "ferry must not use this share as it is: \(failed) failed."
        case .warning:
            let warned = checks.filter { $0.status == .warning }.map(\.title).joined(separator: ", ")
            return "ferry works on this share with the settings below; read the warnings (\(warned))."
        case .ok, .skipped:
            return "ferry can use this share with the settings below."
        }
    }

    private var network: Bool {
        MountTable.isNetwork(mount?.type ?? "") || MountTable.isNetwork(peerMount?.type ?? "") || inotifySeen == false
    }

    func recommendation() -> DoctorRecommendation {
        var reasons = [String]()
        let lookup = lookupSeconds ?? 0
        let pollSeconds: Double
        if !network {
            pollSeconds = 0.2
            reasons.append(inotifySeen == true
                ? "inotify through DIR2 sees writes made through DIR: watchers wake at once, and the default poll of 200 ms is only a backstop."
                : "a local file system (\(mount?.type ?? "unknown type")): watchers on this host wake through inotify; the default poll of 200 ms is a backstop. Run again with --peer for a folder that other hosts write.")
        } else if !peerMeasured {
            pollSeconds = 1
            reasons.append("a network file system (\(mount?.type ?? "unknown type")) measured without --peer: start with a poll of 1 s (each hop waits up to one interval) and run again with --peer DIR2 for measured figures.")
        } else if lookupSeconds == nil {
            pollSeconds = 1
            reasons.append("new names are not found by lookup within \(ProbeIO.seconds(limit)): no poll interval helps, fix the mount options below first.")
        } else if lookup <= 1 {
            pollSeconds = 1
            reasons.append("a new name is found through the peer by lookup after \(ProbeIO.seconds(lookup)): a poll of 1 s puts at most about 1 s on each hop; polling faster costs the server a lookup per waiting name for little gain.")
        } else {
            pollSeconds = min(5, lookup.rounded(.up))
            reasons.append("lookups through the peer lag \(ProbeIO.seconds(lookup)): polling more often than every \(Int(pollSeconds)) s finds nothing new.")
        }
        if peerMeasured {
            if let listing = listingSeconds, listing > 2 {
                reasons.append("listings are stale for \(ProbeIO.seconds(listing)): ferry never waits for a listing, so a poll of \(pollText(pollSeconds)) is fine.")
            } else if listingSeconds == nil {
                reasons.append("listings are stale for more than \(ProbeIO.seconds(limit)): ferry never waits for a listing, so a poll of \(pollText(pollSeconds)) is fine.")
            }
        }
        let pollingOnly = network && inotifySeen != true
        if pollingOnly {
            reasons.append("inotify does not see the other side's writes here: run watchers and transfers with --polling-only (or leave it: ferry polls anyway).")
        }

        // Window: enough bytes in flight to keep writing while a chunk waits to be seen by its
        // receiver and its ack waits to be seen by the sender.
        var chunk: Int64 = 8 << 20
        var window = 4
        let hop = (network ? pollSeconds : 0.01) + lookup + max(0, (renameSeconds ?? 0) - lookup)
        if let rate = writeBytesPerSecond {
            let needed = rate * 2 * hop
            if needed > Double(32 * chunk) { chunk = 16 << 20 }
            window = min(32, max(4, Int((needed / Double(chunk)).rounded(.up))))
            var cap = ""
            while window > 4, Int64(window) * chunk > Self.maxInFlight { window -= 1; cap = ", capped at \(ByteCount.format(Self.maxInFlight)) on the share per transfer and inbox" }
            if let free = freeBytes, free > 0 {
                while window > 2, Int64(window) * chunk > free / 4 { window -= 1; cap = ", capped at a quarter of the free space" }
            }
            reasons.append("writes reach \(formatFixed(rate / 1_048_576, 1)) MiB/s and a chunk and then its ack each wait up to \(ProbeIO.seconds(hop)) to be seen: chunk \(ByteCount.format(chunk)) × window \(window) = \(ByteCount.format(chunk * Int64(window))) in flight keeps the stream going\(cap.isEmpty ? " (the share holds at most that per transfer and inbox)" : cap).")
        }
        return DoctorRecommendation(poll: pollText(pollSeconds), pollSeconds: pollSeconds, pollingOnly: pollingOnly,
                                    chunk: chunkText(chunk), chunkBytes: chunk, window: window,
                                    mountOptions: mountOptions(), reasons: reasons)
    }


    /// "1s", "200ms": the form every --poll flag and `poll:` accept.
    private func pollText(_ seconds: Double) -> String {
        let ms = Int64((seconds * 1000).rounded())
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }

    private func chunkText(_ bytes: Int64) -> String { "\(bytes >> 20)MiB" }

    /// Client mount options that would help, for the file system type found.
    private func mountOptions() -> [String] {
        // The reading side's mount is the one whose caches delay what it sees.
        let reader = peerMount ?? mount
        let type = reader?.type ?? ""
        let options = Set((reader?.options ?? "").split(separator: ",").map(String.init))
        let slowLookup = peerMeasured && (lookupSeconds ?? .infinity) > 1
        let slowRename = peerMeasured && (renameSeconds ?? .infinity) > 2
        let staleListing = peerMeasured && (listingSeconds ?? .infinity) > 2
        var out = [String]()
        switch type {
        case "nfs", "nfs4":
            if !options.contains("lookupcache=positive") && !options.contains("lookupcache=none") {
                out.append("lookupcache=positive: a name ferry polls for before it exists is found as soon as it is written, not after the negative lookup cache expires (up to acdirmax, 60 s by default)" +
                           (slowLookup ? "; measured: lookups lag." : "."))
            }
            if options.contains("nocto") { out.append("remove nocto: ferry needs close-to-open consistency to read chunks whole.") }
            if slowRename || staleListing || !peerMeasured {
                out.append("actimeo=1 (or acdirmin=1,acdirmax=1): attributes and listings refresh after 1 s instead of up to 60 s, so replaced acks and `ls` are current; costs one GETATTR per file per second.")
            }
        case "cifs", "smb3":
            if options.contains("cache=loose") || options.contains("cache=none") {
                out.append("cache=strict instead of \(options.contains("cache=loose") ? "cache=loose" : "cache=none"): close-to-open consistency with client caching.")
            } else {
                out.append("cache=strict (the default on current kernels; never cache=loose): chunks read through another client are whole and current.")
            }
            out.append("actimeo=1 (the default is 1 s; do not raise it): replaced acks and new names show within a second.")
        case "fuse.sshfs":
            if staleListing || slowRename || !peerMeasured {
                out.append("-o dcache_timeout=1 (or -o dir_cache=no) on the reading side: sshfs caches listings for 20 s by default; ferry does not need listings, but `ls` and your scripts then see new files within about 1 s.")
            }
        default:
            break
        }
        return out
    }
}
