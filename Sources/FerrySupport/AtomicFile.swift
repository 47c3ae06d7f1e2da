import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// Opens a temporary file beside `destination`.
    /// - Parameter permissions: mode of the published file (default 0644).
    public init(destination: String, permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]) throws {
        let dest = FilePath(destination)
        self.destination = dest
        let dir = dest.removingLastComponent()
        let name = dest.lastComponent?.string ?? "file"
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let tmpName = ".\(name).tmp-\(getpid())-\(suffix)"
        self.temporaryPath = dir.isEmpty ? FilePath(tmpName) : dir.appending(tmpName)
        do {
            descriptor = try FileDescriptor.open(
                temporaryPath, .writeOnly, options: [.create, .exclusiveCreate, .truncate],
                permissions: permissions)
        } catch {
            throw SupportError.ioFailure(path: destination, operation: "create temporary file", error: error)
        }
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
            _ = try fd.writeAll(bytes)
        } catch {
            throw SupportError.ioFailure(path: destination.string, operation: "write", error: error)
        }
        bytesWritten += Int64(bytes.count)
    }

    /// Appends bytes to the temporary file.
    public func write<D: DataProtocol>(_ data: D) throws {
        if let done = try data.withContiguousStorageIfAvailable({ try write(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        try Array(data).withUnsafeBytes { try write($0) }
    }

    /// Flushes the data to stable storage and renames the file into place.
    public func commit() throws {
        guard let fd = descriptor else { throw SupportError.closed(path: destination.string) }
        descriptor = nil
        do {
            if fsync(fd.rawValue) != 0 { throw Errno(rawValue: errno) }
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
        AtomicFile.syncDirectory(destination.removingLastComponent())
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
    public static func write<D: DataProtocol>(_ data: D, to path: String,
                                              permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead]) throws {
        let writer = try AtomicFileWriter(destination: path, permissions: permissions)
        try writer.write(data)
        try writer.commit()
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
