import FerrySupport
import Foundation

/// The raw system calls `ferry doctor` measures. They are deliberately not ``FileSystem``'s: the
/// doctor tests what the share does with each call (O_EXCL, fsync, link, a write closed without a
/// rename), so it needs the errno of every one, not ferry's tolerant wrappers.
enum ProbeIO {
    /// Writes `bytes` to `path` with `flags` (plus `O_WRONLY`), optionally fsyncs, closes.
    /// - Returns: 0, or the errno of the call that failed.
    static func write(_ bytes: [UInt8], to path: String, flags: Int32 = O_CREAT | O_TRUNC, sync: Bool = false) -> Int32 {
        let fd = Syscall.retryingInterrupts { open(path, O_WRONLY | O_CLOEXEC | flags, 0o644) }
        if fd < 0 { return errno }
        var failure: Int32 = 0
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { buffer in Syscall.retryingInterrupts { Syscall.write(fd, buffer.baseAddress!, buffer.count) } }
            if n <= 0 { failure = n < 0 ? errno : EIO; break }
            offset += n
        }
        if failure == 0, sync, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        return failure
    }

    /// Creates `path` with `O_CREAT | O_EXCL`. - Returns: 0, or the errno (EEXIST when it exists).
    static func createExclusive(_ path: String) -> Int32 {
        let fd = Syscall.retryingInterrupts { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        if fd < 0 { return errno }
        close(fd)
        return 0
    }

    /// fsync of the folder `path`. - Returns: 0, or the errno.
    static func syncFolder(_ path: String) -> Int32 {
        let fd = Syscall.retryingInterrupts { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        if fd < 0 { return errno }
        defer { close(fd) }
        return fsync(fd) == 0 ? 0 : errno
    }

    /// The whole content of `path`, nil when it cannot be opened or read.
    static func read(_ path: String) -> [UInt8]? { try? FileSystem.readIfPresent(path, limit: 64 << 20) }

    /// Reads the rest of an open descriptor. - Returns: nil on a read error.
    static func readAll(_ fd: Int32) -> [UInt8]? {
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { b in Syscall.retryingInterrupts { Syscall.read(fd, b.baseAddress!, b.count) } }
            if n < 0 { return nil }
            if n == 0 { return out }
            out.append(contentsOf: buffer[0..<n])
        }
    }

    /// The text of an errno value, e.g. "EEXIST (File exists)".
    static func describe(_ code: Int32) -> String {
        let names: [Int32: String] = [EEXIST: "EEXIST", ENOENT: "ENOENT", EACCES: "EACCES", EPERM: "EPERM",
                                      EROFS: "EROFS", EINVAL: "EINVAL", ENOSYS: "ENOSYS", EOPNOTSUPP: "EOPNOTSUPP",
                                      ENAMETOOLONG: "ENAMETOOLONG", ENOSPC: "ENOSPC", EDQUOT: "EDQUOT",
                                      EMLINK: "EMLINK", EXDEV: "EXDEV", ESTALE: "ESTALE", EIO: "EIO", EBUSY: "EBUSY"]
        return "\(names[code] ?? "errno \(code)") (\(Syscall.describe(code)))"
    }

    /// Seconds since `start`.
    static func since(_ start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).seconds }

    /// Calls `found` every `interval` until it returns true or `limit` passes.
    /// - Returns: the seconds it took, nil when `limit` passed first.
    static func poll(limit: Double, interval: Duration = .milliseconds(10), from start: ContinuousClock.Instant = .now,
                     _ found: () -> Bool) -> Double? {
        while true {
            if found() { return since(start) }
            if since(start) >= limit { return nil }
            Syscall.sleep(interval)
        }
    }

    /// `seconds` as text: "0.2 ms", "12 ms", "1.02 s", "20.5 s", "60 s".
    static func seconds(_ seconds: Double) -> String {
        if seconds >= 1, seconds == seconds.rounded() { return "\(Int(seconds)) s" }
        if seconds < 0.01 { return formatFixed(seconds * 1000, 1) + " ms" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        return seconds < 10 ? formatFixed(seconds, 2) + " s" : formatFixed(seconds, 1) + " s"
    }

    /// Deterministic filler bytes that differ from run to run in `seed`.
    static func pattern(count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        var out = [UInt8]()
        out.reserveCapacity(count)
        while out.count < count {
            var word = random.next()
            for _ in 0..<8 where out.count < count {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return out
    }
}
