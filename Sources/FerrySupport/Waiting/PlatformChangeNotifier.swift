import Synchronization

/// The change notifications of this platform: inotify on Linux. A kqueue notifier (`EVFILT_VNODE` on
/// an `O_EVTONLY` descriptor per folder) would go here for the BSDs and macOS; until then they poll.
enum PlatformChangeNotifier {
    static func make() -> (any ChangeNotifier)? {
        #if os(Linux)
        return InotifyNotifier()
        #else
        return nil
        #endif
    }
}

#if os(Linux)
/// inotify on the watched folders: names created, renamed in or out, written, removed, or changed.
final class InotifyNotifier: ChangeNotifier {
    let descriptor: Int32
    private let watched = Mutex<[String: Int32]>([:])

    init?() {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if descriptor < 0 { return nil }
    }

    deinit { close(descriptor) }

    func watch(_ directory: String) {
        watched.withLock { watched in
            guard watched[directory] == nil else { return }
            let mask = UInt32(IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB)
            let wd = inotify_add_watch(descriptor, directory, mask)
            if wd >= 0 { watched[directory] = wd }
        }
    }

    func forget(_ directory: String) {
        // The kernel drops the watch of a removed folder by itself; this only frees the name.
        _ = watched.withLock { $0.removeValue(forKey: directory) }
    }
}
#endif
