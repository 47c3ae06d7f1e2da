import FerrySupport
import Foundation

/// A watcher's heartbeat: `<server inbox>/.ferry-heartbeat/<site>.json`, one small JSON file per site,
/// rewritten in place (temporary file, rename) about once per poll period, so it never grows.
/// Readers look it up by name, never by listing the folder (docs/runtime.md, "Liveness").
public struct Heartbeat: Codable, Sendable, Equatable {
    /// Space left where a site writes.
    public struct Space: Codable, Sendable, Equatable {
        /// The folder measured.
        public var path: String
        /// Bytes an unprivileged process can still write there; nil when it could not be measured.
        public var freeBytes: Int64?

        /// Measures `path` now.
        public init(measuring path: String) {
            self.path = path
            self.freeBytes = DiskSpace.available(at: path)
        }
    }

    /// A task the site is working on.
    public struct Task: Codable, Sendable, Equatable, Hashable {
        /// The job id.
        public var job: String
        /// The round (0 while deploying).
        public var round: Int
        /// The task: `deploy`, `train-rNNNN`, `train-rNNNN-sSS`.
        public var task: String
        /// How often the job's persistent executor crashed so far (`executor.persistent`); nil for a one-shot executor.
        public var executorCrashes: Int?

        /// A task of `job`.
        public init(job: String, round: Int, task: String, executorCrashes: Int? = nil) {
            self.job = job
            self.round = round
            self.task = task
            self.executorCrashes = executorCrashes
        }
    }

    /// The file format (1).
    public var format: Int = 1
    /// The site that wrote it.
    public var site: String
    /// `server` or `client`.
    public var role: String
    /// A random id of the watcher run that wrote it: a restarted watcher writes a new one.
    public var instance: String
    /// Incremented with every write of one run, starting at 1.
    public var sequence: UInt64
    /// The writer's clock when it wrote (informational: readers judge liveness by their own clock).
    public var time: Date
    /// When the writing watcher started (writer's clock).
    public var startedAt: Date
    /// The writer host's boot id (`/proc/sys/kernel/random/boot_id`).
    public var bootID: String
    /// The writer's host name.
    public var host: String
    /// The watcher's process id on that host.
    public var pid: Int32
    /// The ferry version of the watcher.
    public var version: String
    /// Seconds between two writes.
    public var intervalSeconds: Double
    /// Free space of the site's own inbox.
    public var inbox: Space
    /// Free space of the site's workspace.
    public var workspace: Space
    /// What the site is running: client, its executors; server, its jobs at their current step.
    public var tasks: [Task]

    /// The folder of heartbeat files inside an inbox.
    public static let folder = ".ferry-heartbeat"

    /// The heartbeat file of `site` in the inbox `inbox` (the server's), nil for a name that cannot be a
    /// file name (empty, with `/`, starting with `.`).
    public static func path(inbox: String, site: String) -> String? {
        guard !site.isEmpty, !site.contains("/"), !site.hasPrefix("."), !site.contains("\0") else { return nil }
        return FileSystem.join(FileSystem.join(inbox, folder), site + ".json")
    }

    /// The heartbeat of `site` in `inbox`, nil when absent or unreadable (a damaged file counts as no
    /// heartbeat: the next write replaces it).
    public static func read(inbox: String, site: String) -> Heartbeat? {
        guard let path = path(inbox: inbox, site: site) else { return nil }
        return try? JSONFile.readIfPresent(Heartbeat.self, from: path)
    }
}
