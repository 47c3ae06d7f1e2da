import Foundation

/// The outcome of one `ferry doctor` check.
enum DoctorStatus: String, Codable, Sendable, Comparable {
    /// Measured and fine for ferry.
    case ok
    /// ferry works, but slower or with a weaker guarantee; the line says what to change.
    case warning
    /// A hard requirement is not met: ferry must not use this share as it is.
    case fail
    /// Not measured (needs `--peer`, or an earlier check failed).
    case skipped

    private var rank: Int {
        switch self {
        case .skipped: return 0
        case .ok: return 1
        case .warning: return 2
        case .fail: return 3
        }
    }

    static func < (a: DoctorStatus, b: DoctorStatus) -> Bool { a.rank < b.rank }
}

/// One check's result line: what was measured and what it means for ferry.
struct DoctorCheck: Codable, Sendable {
    /// Stable identifier (`atomic_rename`, `peer_listing`, …), listed in docs/doctor.md.
    var id: String
    /// Short human title.
    var title: String
    var status: DoctorStatus
    /// The measured value as text ("0.012 s", "not within 60 s", "255 bytes").
    var value: String
    /// What the value means for ferry and what to do about it.
    var meaning: String
    /// The measured numbers behind `value`, with their unit in the key (`seconds`, `bytes`, …).
    var measurements: [String: Double] = [:]
}

/// What the mount table says about the file system holding the share.
struct ShareMount: Codable, Sendable {
    /// File system type as in /proc/self/mounts (`nfs4`, `cifs`, `fuse.sshfs`, `ext4`, …).
    var type: String
    var mountPoint: String
    var source: String
    var options: String

    enum CodingKeys: String, CodingKey {
        case type, source, options
        case mountPoint = "mount_point"
    }
}

/// The settings `ferry doctor` recommends for the share, with the reasoning.
struct DoctorRecommendation: Codable, Sendable {
    /// Poll interval for watchers, `ferry transfer --poll` and the project's `poll:` (duration text).
    var poll: String
    var pollSeconds: Double
    /// Whether watchers should run with `--polling-only` (inotify misses the peer's writes).
    var pollingOnly: Bool
    /// Chunk size for transfers (`--chunk`).
    var chunk: String
    var chunkBytes: Int64
    /// Unconsumed chunks per inbox (`--window`).
    var window: Int
    /// Mount options that would help, each with its reason.
    var mountOptions: [String]
    /// Why these values, one sentence each.
    var reasons: [String]

    enum CodingKeys: String, CodingKey {
        case poll, chunk, window, reasons
        case pollSeconds = "poll_seconds"
        case pollingOnly = "polling_only"
        case chunkBytes = "chunk_bytes"
        case mountOptions = "mount_options"
    }
}

/// Everything `ferry doctor` found; `--json` prints it as one object (schema in docs/doctor.md).
struct DoctorReport: Codable, Sendable {
    var version = 1
    /// The share folder as given, made absolute.
    var share: String
    /// The peer view of the same folder, when `--peer` was given.
    var peer: String?
    var host: String
    var startedAt: Date
    var filesystem: ShareMount?
    var peerFilesystem: ShareMount?
    var checks: [DoctorCheck]
    /// `ok`, `warning` or `fail`: the worst check.
    var verdict: DoctorStatus
    /// One sentence an operator can act on.
    var summary: String
    var recommended: DoctorRecommendation
    /// The exit status: 0 no check failed, 1 a check failed.
    var exitCode: Int32

    enum CodingKeys: String, CodingKey {
        case version, share, peer, host, filesystem, checks, verdict, summary, recommended
        case startedAt = "started_at"
        case peerFilesystem = "peer_filesystem"
        case exitCode = "exit_code"
    }
}
