import CFerrySystem
import Foundation
import SystemPackage

extension FileSystem {
    /// Copies the regular file `from` to `to` atomically (temporary file in `to`'s folder, fsync,
    /// rename) with the kernel's `copy_file_range`, as `cp` does: no pass through user memory. Where
    /// that call is not available (another kernel, some shares) it reads and writes through user
    /// memory instead.
    /// The temporary file is removed on every error path.
    public static func copy(_ from: String, to: String) throws(SupportError) {
        let source = try ReadableFile(path: from)
        let size = try source.regularFileSize()
        let writer: AtomicFileWriter
        do { writer = try AtomicFileWriter(destination: to) } catch { throw .wrap(error, path: to, operation: "create") }
        let out = open(writer.temporaryPath.string, O_WRONLY | O_CLOEXEC)
        guard out >= 0 else {
            writer.abort()
            throw .io(path: to, operation: "open the temporary copy", errno: Syscall.lastError)
        }
        var copied: Int64 = 0
        var failure: Errno?
        while copied < size {
            let n = ferry_copy_range(source.descriptor.rawValue, out, min(size - copied, 1 << 30))
            if n <= 0 { failure = n < 0 ? Syscall.lastError : .ioError; break }
            copied += n
        }
        close(out)
        if let failure {
            writer.abort()
            if failure == .noFunction || failure == .notSupported || failure == .improperLink || failure == .invalidArgument {
                try copyByReading(from, to: to)
                return
            }
            throw .io(path: to, operation: "copy \(from) here", errno: failure)
        }
        do { try writer.commit() } catch { throw .wrap(error, path: to, operation: "copy \(from) here") }
    }
}
