import Foundation
import Synchronization

/// What the watcher's loop sleeps on between passes: a timeout (the poll interval), a wake-up pipe
/// that background work (sends, executors, signals) writes to, and — when enabled and available —
/// inotify on the folders where messages and jobs appear.
///
/// inotify is only a fast path: every pass rescans the folders, so the behaviour is identical with
/// polling alone (shares such as NFS or SMB deliver no inotify events for remote writers).
final class WakeUpSource: Sendable {
    private let pipeRead: Int32
    private let pipeWrite: Int32
    private let inotify: Int32
    private let watched = Mutex<Set<String>>([])

    /// - Parameter useInotify: try inotify (falls back to polling silently when unavailable).
    init(useInotify: Bool) {
        var fds: [Int32] = [0, 0]
        if pipe(&fds) == 0 {
            pipeRead = fds[0]
            pipeWrite = fds[1]
            _ = fcntl(pipeRead, F_SETFL, fcntl(pipeRead, F_GETFL) | O_NONBLOCK)
            _ = fcntl(pipeWrite, F_SETFL, fcntl(pipeWrite, F_GETFL) | O_NONBLOCK)
            _ = fcntl(pipeRead, F_SETFD, FD_CLOEXEC)
            _ = fcntl(pipeWrite, F_SETFD, FD_CLOEXEC)
        } else {
            pipeRead = -1
            pipeWrite = -1
        }
        #if os(Linux)
        inotify = useInotify ? inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) : -1
        #else
        inotify = -1
        #endif
    }

    deinit {
        if pipeRead >= 0 { close(pipeRead); close(pipeWrite) }
        if inotify >= 0 { close(inotify) }
    }

    /// Whether inotify is in use.
    var usesInotify: Bool { inotify >= 0 }

    /// Adds an inotify watch on `directory` (no-op without inotify, or when already watched).
    func watch(_ directory: String) {
        #if os(Linux)
        guard inotify >= 0 else { return }
        let isNew = watched.withLock { $0.insert(directory).inserted }
        guard isNew else { return }
        let mask = UInt32(IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_ATTRIB)
        if inotify_add_watch(inotify, directory, mask) < 0 {
            _ = watched.withLock { $0.remove(directory) }
        }
        #endif
    }

    /// Wakes a thread blocked in ``wait(timeout:)``.
    func wake() {
        guard pipeWrite >= 0 else { return }
        var byte: UInt8 = 1
        _ = write(pipeWrite, &byte, 1)
    }

    /// Blocks until something happens or `timeout` passes; drains what woke it.
    func wait(timeout: Duration) {
        var fds = [pollfd(fd: pipeRead, events: Int16(POLLIN), revents: 0)]
        if inotify >= 0 { fds.append(pollfd(fd: inotify, events: Int16(POLLIN), revents: 0)) }
        let ms = Int32(clamping: max(1, timeout.milliseconds))
        _ = poll(&fds, nfds_t(fds.count), ms)
        var buffer = [UInt8](repeating: 0, count: 4096)
        for fd in [pipeRead, inotify] where fd >= 0 {
            while read(fd, &buffer, buffer.count) > 0 {}
        }
    }
}
