import Foundation
import Synchronization

/// The staging folders of the unpacks running in this process, so that an interrupted process
/// (Ctrl-C, SIGTERM) can remove them before it exits: see ``JobArchive/removeUnfinishedUnpacks()``.
enum StagingRegistry {
    private static let folders = Mutex<Set<String>>([])

    static func add(_ path: String) {
        folders.withLock { _ = $0.insert(path) }
    }

    static func remove(_ path: String) {
        folders.withLock { _ = $0.remove(path) }
    }

    /// Removes every registered folder from disk (best effort) and forgets it.
    static func removeAll() {
        let paths = folders.withLock { set in
            defer { set.removeAll() }
            return set
        }
        for path in paths {
            // The extraction may still be adding files: retry a few times.
            for _ in 0..<5 where FileManager.default.fileExists(atPath: path) {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }
}

extension JobArchive {
    /// Removes the staging folders of the unpacks in progress in this process. Call it from a
    /// SIGINT/SIGTERM handler right before exiting, so an interrupted unpack leaves nothing behind.
    public static func removeUnfinishedUnpacks() {
        StagingRegistry.removeAll()
    }
}
