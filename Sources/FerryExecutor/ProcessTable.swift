import FerrySupport
import Foundation

/// What Linux's `/proc` says about processes: enough to recognise an executor started by an earlier
/// watcher. Everything is nil or empty where `/proc` is missing (other systems) or unreadable.
enum ProcessTable {
    /// One process's `/proc/<pid>/stat` fields that matter here.
    struct Status: Equatable {
        /// Field 3: `R`, `S`, `D`, `Z` (zombie: exited, not yet reaped), `T`…
        var state: Character
        /// Field 5: the process group id.
        var processGroup: Int32
        /// Field 22: the start time in clock ticks since boot; with the boot id it tells a process
        /// apart from a later one that reuses its pid.
        var startTime: UInt64

        /// Whether it can still run (a zombie or a dead task cannot write anything).
        var isLive: Bool { state != "Z" && state != "X" && state != "x" }
    }

    /// The fields of `/proc/<pid>/stat`, nil when the process does not exist.
    static func status(_ pid: Int32) -> Status? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": field 3 (state) is the first, so field N is at index N - 3.
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count > 19, let state = fields[0].first, let group = Int32(fields[2]),
              let start = UInt64(fields[19]) else { return nil }
        return Status(state: state, processGroup: group, startTime: start)
    }

    /// Whether `/proc/<pid>/environ` (the environment the process was started with) holds `entry`
    /// (`NAME=value`); false when it is unreadable.
    static func environment(of pid: Int32, contains entry: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        let wanted = Array(entry.utf8)
        return data.split(separator: 0, omittingEmptySubsequences: true).contains { $0.elementsEqual(wanted) }
    }

    /// The ids of all processes, empty without `/proc`.
    static func processIDs() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`), nil when unavailable.
    static let bootID: String? = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))
        .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
}
