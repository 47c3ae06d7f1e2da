import Synchronization

/// Waits until something may have changed: a folder being watched, a ``wake()`` from another thread,
/// or the poll interval passing, whichever comes first. The one waiter of the watcher, the sender and
/// the receiver.
///
/// Change notification is only a fast path: callers look again after every wake-up, so behaviour is
/// the same with polling alone. That is what a share needs, since NFS, SMB and sshfs deliver no
/// events for another host's writes.
public final class ChangeWaiter: Sendable {
    private let notifier: (any ChangeNotifier)?
    private let wakePipe: (read: Int32, write: Int32)?

    /// - Parameters:
    ///   - notifications: use the platform's change notifications (inotify on Linux) when available;
    ///     without them, or where none exist, the waiter polls.
    ///   - wakeable: create the pipe behind ``wake()``.
    public init(notifications: Bool, wakeable: Bool = false) {
        notifier = notifications ? PlatformChangeNotifier.make() : nil
        wakePipe = wakeable ? Self.makePipe() : nil
    }

    deinit {
        if let wakePipe {
            close(wakePipe.read)
            close(wakePipe.write)
        }
    }

    /// Whether change notifications are in use (else the waiter only polls).
    public var usesNotifications: Bool { notifier != nil }

    /// Adds `directory` to the watched folders (no-op when polling, or when already watched).
    public func watch(_ directory: String) { notifier?.watch(directory) }

    /// Forgets a folder that was removed.
    public func forget(_ directory: String) { notifier?.forget(directory) }

    /// Wakes a thread blocked in ``wait(timeout:)`` (only for a `wakeable` waiter).
    public func wake() {
        guard let wakePipe else { return }
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
    }

    /// Blocks until a change, a wake-up or `timeout`; drains what woke it.
    public func wait(timeout: Duration) {
        var fds = [pollfd]()
        if let wakePipe { fds.append(pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)) }
        if let notifier { fds.append(pollfd(fd: notifier.descriptor, events: Int16(POLLIN), revents: 0)) }
        guard !fds.isEmpty else { Syscall.sleep(timeout); return }
        let ms = Int32(clamping: max(1, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        _ = poll(&fds, nfds_t(fds.count), ms)
        var buffer = [UInt8](repeating: 0, count: 8192)
        for fd in fds.map(\.fd) {
            while read(fd, &buffer, buffer.count) > 0 {}
        }
    }

    private static func makePipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        return (fds[0], fds[1])
    }
}

/// A source of "this folder changed" events behind a pollable descriptor.
protocol ChangeNotifier: Sendable {
    /// Readable when an event is pending; reading drains it.
    var descriptor: Int32 { get }
    func watch(_ directory: String)
    func forget(_ directory: String)
}
