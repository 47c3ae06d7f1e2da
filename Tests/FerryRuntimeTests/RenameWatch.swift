import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension RT {
    /// Blocks until `file` is renamed into `directory` (or, with `events: IN_CREATE`, created there) while
    /// `condition` holds (inotify, so the caller reacts within microseconds); false when the watch cannot
    /// be set up, when `passed` says (once the watch is set up) that the moment has already gone by, or
    /// after `timeout`.
    static func waitForRename(of file: String, in directory: String, events: UInt32 = UInt32(IN_MOVED_TO),
                              timeout: Duration = failsafe, unless passed: () -> Bool = { false },
                              when condition: () -> Bool) -> Bool {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard inotify_add_watch(fd, directory, events) >= 0, !passed() else { return false }
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 8192)
        while ContinuousClock.now < deadline {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 500) > 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { return false }
            var offset = 0
            while offset + 16 <= n {
                // struct inotify_event: wd, mask, cookie, len (4 bytes each, little-endian here), name[len]
                let len = (12..<16).reduce(0) { $0 | Int(buffer[offset + $1]) << (8 * ($1 - 12)) }
                let name = String(decoding: buffer[(offset + 16)..<(offset + 16 + len)].prefix { $0 != 0 }, as: UTF8.self)
                if name == file, condition() { return true }
                offset += 16 + len
            }
        }
        return false
    }
}

extension RT {
    /// Whether process `pid` exists and is not a zombie (an exited child nobody reaped yet).
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM,
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].dropFirst().first != "Z"
    }

    /// Waits until every thread of process `pid` is stopped (after SIGSTOP: `kill` returns before the
    /// signal has stopped threads running on other cores); false after `timeout`.
    static func waitStopped(_ pid: Int32, timeout: Duration = .seconds(120)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            let states = tasks.compactMap { task -> Character? in
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return nil }
                return stat[stat.index(after: close)...].dropFirst().first
            }
            if !states.isEmpty, states.allSatisfy({ $0 == "T" || $0 == "t" }) { return true }
            usleep(1_000)
        }
        return false
    }
}
