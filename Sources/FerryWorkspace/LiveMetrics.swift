import FerrySupport
import Foundation

/// One record of an executor's live metrics file (`FERRY_METRICS`, docs/executor-contract.md):
/// `{"step": 120, "time": 1765100000.5, "metrics": {"loss": 0.41}}`.
public struct LiveMetricsRecord: Codable, Sendable, Equatable {
    /// The training step (whole number ≥ 0).
    public var step: Int
    /// Seconds since 1970 when the executor logged it, if it said.
    public var time: Double?
    /// Metric name → finite value.
    public var metrics: [String: Double]

    public init(step: Int, time: Double?, metrics: [String: Double]) {
        self.step = step
        self.time = time
        self.metrics = metrics
    }
}

/// What a client ships to the server during a task: the latest records of the task's live metrics
/// file, kept by the server as `live/<site>.json` in the job folder (docs/workspaces.md).
public struct LiveMetricsSnapshot: Codable, Sendable, Equatable {
    public var site: String
    public var task: String
    public var round: Int
    /// When the client read the file.
    public var updatedAt: Date
    /// The newest records, oldest first, at most ``LiveMetricsSnapshot/maxRecords``.
    public var records: [LiveMetricsRecord]

    /// Most records one snapshot carries.
    public static let maxRecords = 100
    /// Most bytes of the metrics file's end that are read for a snapshot.
    public static let maxTailBytes = 64 << 10
    /// Largest snapshot file the server accepts.
    public static let maxFileBytes = 256 << 10

    public init(site: String, task: String, round: Int, updatedAt: Date, records: [LiveMetricsRecord]) {
        self.site = site
        self.task = task
        self.round = round
        self.updatedAt = updatedAt
        self.records = records
    }

    /// The valid records in the end of a metrics file: complete lines only (a first line cut by
    /// the tail window and a last line still being written are left out); lines that are not records
    /// (not JSON, negative steps, values that are not finite numbers) are skipped. At most
    /// ``maxRecords``, the newest.
    public static func records(fromTail tail: [UInt8], startsAtFileStart: Bool) -> [LiveMetricsRecord] {
        var lines = tail.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        lines.removeLast()  // after the last newline: empty, or a line still being written
        if !startsAtFileStart, !lines.isEmpty { lines.removeFirst() }
        let decoder = JSONDecoder()
        var out: [LiveMetricsRecord] = []
        for line in lines.suffix(maxRecords * 4) where !line.isEmpty {
            guard let record = try? decoder.decode(LiveMetricsRecord.self, from: Data(line)),
                  record.step >= 0, record.metrics.values.allSatisfy(\.isFinite) else { continue }
            out.append(record)
        }
        return Array(out.suffix(maxRecords))
    }
}

extension JobPaths {
    /// `live/`: the latest live metrics snapshot of each site.
    public var liveMetricsDirectory: String { FileSystem.join(directory, "live") }
    /// `live/<site>.json` (``LiveMetricsSnapshot``).
    public func liveMetrics(site: String) -> String { FileSystem.join(liveMetricsDirectory, site + ".json") }

    /// The live metrics snapshots of the job's sites, by site name (unreadable files are left out).
    public func liveMetricsSnapshots() -> [String: LiveMetricsSnapshot] {
        var out: [String: LiveMetricsSnapshot] = [:]
        for name in FileSystem.list(liveMetricsDirectory) where name.hasSuffix(".json") && !name.hasPrefix(".") {
            if let snapshot = try? JSONFile.read(LiveMetricsSnapshot.self, from: FileSystem.join(liveMetricsDirectory, name)) {
                out[String(name.dropLast(5))] = snapshot
            }
        }
        return out
    }
}

/// One point of a site's live metrics history on the server (`live/<site>.history.jsonl`): a record
/// at its step counted across the site's tasks (each task's steps follow the previous task's).
public struct LiveMetricsPoint: Codable, Sendable, Equatable {
    public var step: Int64
    public var task: String
    public var metrics: [String: Double]

    public init(step: Int64, task: String, metrics: [String: Double]) {
        self.step = step
        self.task = task
        self.metrics = metrics
    }

    /// Most bytes a site's history file grows to; later points are not kept (TensorBoard has them).
    public static let maxHistoryBytes: Int64 = 4 << 20
}

extension JobPaths {
    /// `live/<site>.history.jsonl`: every live metrics record the server received from the site.
    public func liveMetricsHistory(site: String) -> String { FileSystem.join(liveMetricsDirectory, site + ".history.jsonl") }

    /// The live metrics histories of the job's sites, by site name.
    public func liveMetricsHistories() -> [String: [LiveMetricsPoint]] {
        let suffix = ".history.jsonl"
        var out: [String: [LiveMetricsPoint]] = [:]
        let decoder = JSONDecoder()
        for name in FileSystem.list(liveMetricsDirectory) where name.hasSuffix(suffix) && !name.hasPrefix(".") {
            guard let bytes = try? FileSystem.read(FileSystem.join(liveMetricsDirectory, name),
                                                   limit: Int(LiveMetricsPoint.maxHistoryBytes) + (1 << 20)) else { continue }
            let points = bytes.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(LiveMetricsPoint.self, from: Data($0)) }
            if !points.isEmpty { out[String(name.dropLast(suffix.count))] = points }
        }
        return out
    }
}
