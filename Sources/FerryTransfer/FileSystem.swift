import FerrySupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX helpers. ENOENT and ESTALE (a file vanished, a stale NFS handle) are reported as
/// "absent", never as errors: on a share the other side may have just renamed or deleted it.
enum FS {
    static func isTransient(_ e: Int32) -> Bool { e == ENOENT || e == ESTALE }

    /// Reads a whole (small) file; nil when it does not exist (or vanished).
    static func readSmall(_ path: String, limit: Int = 16 << 20) throws(TransferError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if isTransient(errno) { return nil }
            throw error(path, "open")
        }
        defer { close(fd) }
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if isTransient(errno) { return nil }
                throw error(path, "read")
            }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
            if out.count > limit { throw TransferError.io(path: path, operation: "read", detail: "file is larger than \(limit) bytes") }
        }
        return out
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Size and modification time (seconds since the epoch) of `path`, nil when absent.
    static func info(_ path: String) -> (size: Int64, mtime: Double)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        #if canImport(Darwin)
        let t = Double(st.st_mtimespec.tv_sec) + Double(st.st_mtimespec.tv_nsec) / 1e9
        #else
        let t = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        #endif
        return (Int64(st.st_size), t)
    }

    /// Names in a directory (without `.` and `..`); empty when it does not exist.
    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names = [String]()
        while let entry = readdir(d) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates a directory; fine when it already exists.
    static func makeDirectory(_ path: String) throws(TransferError) {
        if mkdir(path, 0o755) != 0, errno != EEXIST { throw error(path, "create folder") }
    }

    /// Removes a file; fine when it is already gone.
    static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Removes a folder and the plain files in it (transfer folders hold no subfolders).
    static func removeTree(_ dir: String) {
        for name in list(dir) { _ = unlink(TransferLayout.join(dir, name)) }
        _ = rmdir(dir)
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func hostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, 255) == 0 else { return "unknown" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func error(_ path: String, _ operation: String) -> TransferError {
        .io(path: path, operation: operation, detail: String(cString: strerror(errno)))
    }

    /// Writes `bytes` to `path` atomically (temp + fsync + rename) with FerrySupport's writer;
    /// `durable: false` skips the fsyncs (the rename stays atomic for readers).
    static func writeAtomic(_ bytes: [UInt8], to path: String, durable: Bool = true) throws(TransferError) {
        do {
            try AtomicFile.write(bytes, to: path, durable: durable)
        } catch {
            throw .io(path: path, operation: "write", detail: String(describing: error))
        }
    }

    /// Sleeps for `duration`.
    static func sleep(_ duration: Duration) {
        let ms = max(duration.milliseconds, 1)
        var request = timespec(tv_sec: Int(ms / 1000), tv_nsec: Int(ms % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
