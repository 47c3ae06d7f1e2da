import FerrySupport
import FerryWorkspace
import Foundation

/// What the client has shipped of each running task's live metrics file (in memory: after a restart
/// the next snapshot is simply sent again).
final class LiveMetricsShipper {
    struct Cursor {
        /// Size of the metrics file when it was last shipped (-1: never).
        var size: Int64 = -1
        var shippedAt: Date = .distantPast
        /// The last shipment's message id, while it may still be in the outbox.
        var lastMessage: String?
    }

    /// How often a running task's metrics go to the server at most.
    static let interval: TimeInterval = 3

    /// "job/task" → cursor, for running tasks and finished ones whose last records are not shipped yet.
    var cursors: [String: Cursor] = [:]

    /// The end of the file at `path` (at most ``LiveMetricsSnapshot/maxTailBytes``) and whether it
    /// starts at the file's start.
    static func tail(_ path: String, size: Int64) -> (bytes: [UInt8], fromStart: Bool)? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let start = max(0, size - Int64(LiveMetricsSnapshot.maxTailBytes))
        do {
            try handle.seek(toOffset: UInt64(start))
            let data = try handle.read(upToCount: Int(size - start)) ?? Data()
            return ([UInt8](data), start == 0)
        } catch {
            return nil
        }
    }
}
