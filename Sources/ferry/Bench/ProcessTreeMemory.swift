import FerrySupport
import Foundation
import Synchronization

/// Samples the resident memory of a process and all its descendants (from /proc) on a background
/// thread, keeping the peak of their sum: what a federation of several processes costs the host.
final class ProcessTreeMemory: Sendable {
    private let root: pid_t
    private let interval: Duration
    private let state = Mutex<(peak: Int64, running: Bool)>((0, true))
    private let finished = DispatchSemaphore(value: 0)

    /// Starts sampling the tree under `root` every `interval`.
    init(root: pid_t, interval: Duration = .milliseconds(100)) {
        self.root = root
        self.interval = interval
        Thread.detachNewThread { [self] in
            while state.withLock({ $0.running }) {
                let total = Self.treeResidentBytes(root: root)
                state.withLock { $0.peak = max($0.peak, total) }
                Syscall.sleep(interval)
            }
            finished.signal()
        }
    }

    /// Stops sampling; returns the peak of the tree's summed resident memory, in bytes.
    func stop() -> Int64 {
        state.withLock { $0.running = false }
        finished.wait()
        return state.withLock { $0.peak }
    }

    /// Whether /proc can be read (Linux); elsewhere the peak stays 0.
    static var isAvailable: Bool { FileSystem.exists("/proc/self/stat") }

    /// The summed VmRSS of `root` and every process whose parent chain leads to it.
    static func treeResidentBytes(root: pid_t) -> Int64 {
        var parent: [pid_t: pid_t] = [:]
        for name in FileSystem.list("/proc") {
            guard let pid = pid_t(name), let ppid = parentPID(pid) else { continue }
            parent[pid] = ppid
        }
        var total: Int64 = 0
        for pid in parent.keys where isDescendant(pid, of: root, parent: parent) {
            total += residentBytes(pid)
        }
        return total
    }

    private static func isDescendant(_ pid: pid_t, of root: pid_t, parent: [pid_t: pid_t]) -> Bool {
        var current = pid
        for _ in 0..<64 {
            if current == root { return true }
            guard let next = parent[current], next != current, next > 0 else { return false }
            current = next
        }
        return false
    }

    /// The fourth field of /proc/PID/stat (after the parenthesised command name, which may hold spaces).
    private static func parentPID(_ pid: pid_t) -> pid_t? {
        guard let bytes = try? FileSystem.readIfPresent("/proc/\(pid)/stat", limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    private static func residentBytes(_ pid: pid_t) -> Int64 {
        guard let bytes = try? FileSystem.readIfPresent("/proc/\(pid)/status", limit: 64 << 10) else { return 0 }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kib = line.split(separator: " ").dropFirst().first.flatMap { Int64($0) } ?? 0
            return kib * 1024
        }
        return 0
    }
}
