import FerrySupport
import FerryWorkspace
import Foundation

/// How `ferry status` shows the sites' live metrics (the latest step each site logged).
enum LiveMetricsText {
    /// `site-1: train-r0002 step 120  loss=0.4127 lr=0.0003  (4s ago)`, or nil without records.
    static func line(_ snapshot: LiveMetricsSnapshot, now: Date) -> String? {
        guard let last = snapshot.records.last else { return nil }
        let values = last.metrics.keys.sorted().map { "\($0)=\(number(last.metrics[$0]!))" }.joined(separator: " ")
        let age = max(0, now.timeIntervalSince(snapshot.updatedAt))
        return "\(snapshot.site): \(snapshot.task) step \(last.step)  \(values)  (\(DurationText.format(.seconds(Int64(age.rounded())))) ago)"
    }

    /// Four decimals for ordinary values, scientific notation for very small or large ones.
    static func number(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e6) { return String(format: "%.4g", value) }
        return formatFixed(value, 4)
    }

    /// The `live` object of `ferry status --json`: site → its snapshot's latest record.
    static func json(_ snapshots: [String: LiveMetricsSnapshot]) -> [String: Any] {
        var out: [String: Any] = [:]
        for (site, snapshot) in snapshots {
            guard let last = snapshot.records.last else { continue }
            out[site] = ["task": snapshot.task, "round": snapshot.round, "step": last.step, "metrics": last.metrics,
                         "updated_at": Timestamp.string(snapshot.updatedAt)] as [String: Any]
        }
        return out
    }
}

/// Prints, for `ferry logs --follow`, each site's newest live metrics record when it changed:
/// `live site-1: train-r0002 step 120  loss=0.4127`.
struct LiveMetricsFollower {
    let paths: JobPaths
    let site: String?
    private var printed: [String: String] = [:]

    init(paths: JobPaths, site: String?) {
        self.paths = paths
        self.site = site
    }

    mutating func printNew() {
        let snapshots = paths.liveMetricsSnapshots()
        for name in snapshots.keys.sorted() where site == nil || site == name {
            guard let last = snapshots[name]!.records.last else { continue }
            let values = last.metrics.keys.sorted().map { "\($0)=\(LiveMetricsText.number(last.metrics[$0]!))" }.joined(separator: " ")
            let line = "live \(name): \(snapshots[name]!.task) step \(last.step)  \(values)"
            guard printed[name] != line else { continue }
            printed[name] = line
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }
}
