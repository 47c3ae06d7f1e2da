import CFerrySystem
import Foundation

/// What survives a crash of this host, and how to make writes reach the disk early.
public enum HostDurability {
    /// Starts writing bytes [offset, offset + length) of `fd` to the disk without waiting for them
    /// (Linux `sync_file_range`), so a later fsync has little left to wait for and dirty pages do
    /// not pile up. Best effort: a failure only means the later fsync does all the work.
    public static func startWriteback(_ fd: Int32, offset: Int64, length: Int64) {
        _ = ferry_start_writeback(fd, offset, length)
    }

    /// Reserves the disk blocks of bytes [offset, offset + length) of `fd` without changing its size, so
    /// the writes that follow fill blocks already allocated: the file system then does no per-page
    /// delayed-allocation bookkeeping (about 0.07 s of CPU per GiB on ext4). Best effort: a file system
    /// without it, or a disk without room for all of it, only means the writes allocate as they go.
    /// Returns whether the blocks were reserved (`errno` tells why not).
    @discardableResult
    public static func preallocate(_ fd: Int32, offset: Int64, length: Int64) -> Bool {
        guard length > 0 else { return true }
        return ferry_preallocate(fd, offset, length) == 0
    }

    /// An identifier of the current boot of this host: it changes when the machine restarts, so
    /// data that was written but not fsynced before a recorded identifier may be lost when the
    /// identifier differs. `FERRY_BOOT_ID` overrides it (tests simulate a host restart with it).
    public static var bootID: String {
        if let forced = ProcessInfo.processInfo.environment["FERRY_BOOT_ID"], !forced.isEmpty { return forced }
        return cachedBootID
    }

    private static let cachedBootID: String = {
        #if os(Linux)
        if let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) {
            let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !id.isEmpty { return id }
        }
        #endif
        // Elsewhere: the boot time, which also changes with every restart.
        return "boot-" + String(Int((Date().timeIntervalSince1970 - ProcessInfo.processInfo.systemUptime) / 10))
    }()
}

/// How large one write(2) call may be.
public enum WriteSlicing {
    /// Large writes are issued in slices of this size: on Linux 6.x ext4, one write of more than
    /// 4 MiB into the page cache runs about 8× slower than the same bytes in 1 MiB calls
    /// (`dd bs=8M` 256 MB/s, `dd bs=1M` 2.6 GB/s on the development VM, docs/benchmarks.md).
    public static let sliceBytes = 1 << 20
}
