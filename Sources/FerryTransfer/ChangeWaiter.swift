#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Waits for something to change in a set of folders: inotify on Linux wakes it up at once for local
/// changes; otherwise (or in addition, for changes made by other hosts on a share) it wakes up every
/// poll interval.
final class ChangeWaiter {
    private let interval: Duration
    private var fd: Int32 = -1
    private var watched = Set<String>()

    init(pollInterval: Duration, pollingOnly: Bool) {
        interval = pollInterval
        #if os(Linux)
        if !pollingOnly { fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        #endif
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether inotify is in use.
    var usesInotify: Bool { fd >= 0 }

    /// Adds `dir` to the watched folders (no-op when polling).
    func watch(_ dir: String) {
        #if os(Linux)
        guard fd >= 0, !watched.contains(dir) else { return }
        let mask = UInt32(IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB)
        if inotify_add_watch(fd, dir, mask) >= 0 { watched.insert(dir) }
        #endif
    }

    /// Forgets a folder that was removed (the kernel drops its watch by itself).
    func forget(_ dir: String) { watched.remove(dir) }

    /// Returns after a change in a watched folder or after the poll interval, whichever comes first.
    func wait() {
        guard fd >= 0 else { FS.sleep(interval); return }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(clamping: max(interval.milliseconds, 1))
        _ = poll(&p, 1, ms)
        var buf = [UInt8](repeating: 0, count: 8192)
        while buf.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
