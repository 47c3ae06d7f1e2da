import Foundation
import SystemPackage

/// A file being written under a temporary name in its final directory, published
/// with fsync + same-directory rename so readers only ever see a complete file.
///
/// Works on NFS and SMB shares: the commit is a rename inside one directory and no
/// cross-host locking is involved. If the writer is dropped without ``commit()``,
/// the temporary file is removed.
public final class AtomicFileWriter {
    /// The path the file is published at on ``commit()``.
    public let destination: FilePath
    /// The temporary path being written.
    public let temporaryPath: FilePath
    private var descriptor: FileDescriptor?
    /// Bytes written so far.
    public private(set) var bytesWritten: Int64 = 0
    /// Every 8 MiB written is sent to the disk at once (without waiting), so ``commit()``'s fsync has
    /// little left to wait for.
    private var writebackStart: Int64 = 0
    private static let writebackStep: Int64 = 8 << 20
    private let startsWriteback: Bool
    /// Made with ``init(destination:reusing:)``: an existing file is overwritten (and cut to the bytes
    /// written on ``commit()``).
    public private(set) var reusesFile = false
    /// Whether ``commit()`` or ``abort()`` has run: the file was published or discarded.
    public var isClosed: Bool { descriptor == nil }

    /// Opens a temporary file beside `destination`.
    /// - Parameters:
    ///   - permissions: mode of the published file (default 0644).
    ///   - startsWriteback: send every 8 MiB written to the disk at once (default). Off for files that
    ///     are committed without an fsync and deleted soon after, which then never reach the disk.
    public init(destination: String, permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead],
                startsWriteback: Bool = true) throws {
        self.startsWriteback = startsWriteback
        let dest = FilePath(destination)
        self.destination = dest
        self.temporaryPath = Self.temporaryPath(beside: dest)
        do {
            descriptor = try FileDescriptor.open(
                temporaryPath, .writeOnly, options: [.create, .exclusiveCreate, .truncate],
                permissions: permissions)
        } catch {
            throw SupportError.ioFailure(path: destination, operation: "create temporary file", error: error)
        }
    }

    /// Opens `spare` to be overwritten and published at `destination`, or returns nil when there is no
    /// usable spare (then create a new writer). The spare is first renamed to this writer's temporary name
    /// (so nobody else can take or replace it meanwhile), then opened without following a link and used
    /// only if it is a regular file with no other name: a planted link never redirects the write. Its
    /// pages are already in the page cache, so overwriting them costs no allocation; ``commit()`` cuts it
    /// to the bytes written.
    public init?(destination: String, reusing spare: String) {
        let dest = FilePath(destination)
        self.destination = dest
        startsWriteback = false
        temporaryPath = Self.temporaryPath(beside: dest)
        guard rename(spare, temporaryPath.string) == 0 else { return nil }
        let fd = open(temporaryPath.string, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        var st = stat()
        guard fd >= 0, fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink == 1 else {
            if fd >= 0 { close(fd) }
            _ = unlink(temporaryPath.string)
            return nil
        }
        descriptor = FileDescriptor(rawValue: fd)
        reusesFile = true
    }

    /// `.<name>.tmp-<pid>-<random>` in `destination`'s folder.
    private static func temporaryPath(beside destination: FilePath) -> FilePath {
        let dir = destination.removingLastComponent()
        let name = destination.lastComponent?.string ?? "file"
        let tmpName = ".\(name).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
        return dir.isEmpty ? FilePath(tmpName) : dir.appending(tmpName)
    }

    deinit {
        if let fd = descriptor {
            try? fd.close()
            _ = unlink(temporaryPath.string)
        }
    }

    /// Appends bytes to the temporary file.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let fd = descriptor else { throw SupportError.closed(path: destination.string) }
        do {
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + WriteSlicing.sliceBytes, bytes.count)
                _ = try fd.writeAll(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                offset = end
            }
        } catch {
            throw SupportError.ioFailure(path: destination.string, operation: "write", error: error)
        }
        bytesWritten += Int64(bytes.count)
        if startsWriteback, bytesWritten - writebackStart >= Self.writebackStep {
            HostDurability.startWriteback(fd.rawValue, offset: writebackStart, length: bytesWritten - writebackStart)
            writebackStart = bytesWritten
        }
    }

    /// Appends bytes to the temporary file.
    public func write<D: DataProtocol>(_ data: D) throws {
        if let done = try data.withContiguousStorageIfAvailable({ try write(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        try Array(data).withUnsafeBytes { try write($0) }
    }

    /// Flushes the data written so far to stable storage (``commit()`` then has nothing left to flush).
    public func sync() throws {
        guard let fd = descriptor else { throw SupportError.closed(path: destination.string) }
        if fsync(fd.rawValue) != 0 {
            throw SupportError.io(path: destination.string, operation: "fsync", errno: Errno(rawValue: errno))
        }
    }

    /// Flushes the data to stable storage and renames the file into place.
    /// - Parameters:
    ///   - syncData: fsync the file before the rename (default). Without it the rename is still
    ///     atomic for readers, but a crash of the host may leave the file empty or short.
    ///   - syncDirectory: fsync the folder after the rename, so the new name survives a host crash.
    public func commit(syncData: Bool = true, syncDirectory: Bool = true) throws {
        guard let fd = descriptor else { throw SupportError.closed(path: destination.string) }
        descriptor = nil
        do {
            if reusesFile, ftruncate(fd.rawValue, off_t(bytesWritten)) != 0 { throw Errno(rawValue: errno) }
            if syncData, fsync(fd.rawValue) != 0 { throw Errno(rawValue: errno) }
            try fd.close()
        } catch {
            _ = unlink(temporaryPath.string)
            throw SupportError.ioFailure(path: destination.string, operation: "fsync", error: error)
        }
        if rename(temporaryPath.string, destination.string) != 0 {
            let err = Errno(rawValue: errno)
            _ = unlink(temporaryPath.string)
            throw SupportError.io(path: destination.string, operation: "rename into place", errno: err)
        }
        if syncDirectory { AtomicFile.syncDirectory(destination.removingLastComponent()) }
    }

    /// Discards the temporary file; the destination is left untouched.
    public func abort() {
        if let fd = descriptor {
            try? fd.close()
            descriptor = nil
            _ = unlink(temporaryPath.string)
        }
    }
}

/// Whole-file atomic writes.
public enum AtomicFile {
    /// Writes `data` to `path` atomically (temp file in the same directory, fsync, rename).
    /// With `durable: false` the file is only renamed into place (atomic for readers, not flushed):
    /// for state that is rebuilt or rolled back after a host crash.
    public static func write<D: DataProtocol>(_ data: D, to path: String,
                                              permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead],
                                              durable: Bool = true) throws {
        let writer = try AtomicFileWriter(destination: path, permissions: permissions)
        try writer.write(data)
        try writer.commit(syncData: durable, syncDirectory: durable)
    }

    /// Writes a UTF-8 string to `path` atomically.
    public static func write(string: String, to path: String,
                             permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]) throws {
        try write(Array(string.utf8), to: path, permissions: permissions)
    }

    /// Best-effort fsync of a directory so a rename inside it is durable.
    public static func syncDirectory(_ dir: FilePath) {
        let path = dir.isEmpty ? "." : dir.string
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}
