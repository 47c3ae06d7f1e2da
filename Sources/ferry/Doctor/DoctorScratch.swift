import FerrySupport
import Foundation
import Synchronization

/// The one folder `ferry doctor` writes in: `DIR/.ferry-doctor-<random>`. It is removed when the
/// checks end, on every error path, and on SIGINT, SIGTERM or SIGHUP (then the process exits with
/// 128 + the signal, the shell's convention).
final class DoctorScratch {
    /// The folder as this host sees it through DIR.
    let path: String
    /// Its name inside DIR (the same name through the peer mount).
    let name: String

    private static let signalHandlers = Mutex<SignalHandlers?>(nil)
    private static let live = Mutex<Set<String>>([])

    /// Creates the folder in `share`. - Throws: ``DoctorProblem/notWritable(path:reason:)``.
    init(share: String) throws(DoctorProblem) {
        name = ".ferry-doctor-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        path = FileSystem.join(share, name)
        Self.installSignalHandlers()
        // Registered before it exists: a signal that lands right after the mkdir must find it.
        _ = Self.live.withLock { $0.insert(path) }
        if mkdir(path, 0o755) != 0 {
            let code = errno
            _ = Self.live.withLock { $0.remove(path) }
            throw .notWritable(path: share, reason: "cannot create the folder \(name) in it: \(Syscall.describe(code))")
        }
    }

    /// A path inside the folder.
    func file(_ component: String) -> String { FileSystem.join(path, component) }

    /// Removes the folder and everything in it (never following symlinks).
    func remove() {
        FileSystem.remove(path)
        _ = Self.live.withLock { $0.remove(path) }
    }

    /// Removes `path` while the checks may still be writing in it: the folder is first renamed, so
    /// that their later creates fail (ENOENT) instead of landing in a folder being emptied.
    private static func discard(_ path: String) {
        let doomed = path + ".removing"
        let target = rename(path, doomed) == 0 ? doomed : path
        for _ in 0..<3 where FileSystem.exists(target) { FileSystem.remove(target) }
    }

    private static func installSignalHandlers() {
        signalHandlers.withLock { handlers in
            guard handlers == nil else { return }
            handlers = SignalHandlers.install([SIGINT, SIGTERM, SIGHUP], handler: SignalHandlers.exitAfter {
                for path in live.withLock({ $0 }) { discard(path) }
            })
        }
    }
}

/// Why `ferry doctor` could not measure at all.
enum DoctorProblem: Error, CustomStringConvertible {
    /// The share folder cannot be written: ferry cannot use it.
    case notWritable(path: String, reason: String)

    var description: String {
        switch self {
        case let .notWritable(path, reason):
            return "\(path): not writable (\(reason)); ferry writes inboxes, chunks and acks here: " +
                "mount the share read-write and give this user write permission on the folder"
        }
    }
}
