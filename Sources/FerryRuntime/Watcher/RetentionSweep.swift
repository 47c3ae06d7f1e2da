import FerrySupport
import Foundation

/// When the watcher next looks for finished jobs older than the site's `retention:` (site.yaml):
/// every quarter of the retention period, at most once a minute, at least every 100 ms.
struct RetentionSweep {
    let retention: Duration?
    private var next = Date.distantPast

    init(retention: Duration?) { self.retention = retention }

    /// The retention in seconds when a sweep is due at `now` (and schedules the next), else nil.
    mutating func due(_ now: Date) -> Double? {
        guard let retention, now >= next else { return nil }
        next = now.addingTimeInterval(min(60, max(0.1, retention.seconds / 4)))
        return retention.seconds
    }
}
