import Foundation
import SystemPackage

/// The file-system operations of ferry, on paths given as strings: one owner for every module.
///
/// On a share another host may rename or delete a file at any moment, so lookups treat ENOENT and
/// ESTALE (a stale NFS handle) as "absent", never as errors. Nothing here relies on a directory
/// listing being fresh; ``list(_:)`` is for folders this host writes, or for sweeps that tolerate a
/// stale view.
public enum FileSystem {
    /// Whether `code` means the file is not there (or no longer there, on a share).
    public static func isAbsence(_ code: Errno) -> Bool { code == .noSuchFileOrDirectory || code == .staleNFSFileHandle }

    /// Whether something exists at `path` (a dangling symlink counts as absent).
    public static func exists(_ path: String) -> Bool { status(path) != nil }

    /// Whether a file at `path` can be opened for reading now. On a network share an open asks the
    /// server (close-to-open consistency), where ``exists(_:)`` may answer from an attribute cache that
    /// still shows a file another host deleted (sshfs: 20 s; NFS: `acregmax`). Use it for a name the
    /// other side removes.
    public static func opens(_ path: String) -> Bool {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly) else { return false }
        try? fd.close()
        return true
    }

    /// Whether `path` is a directory (following symlinks).
    public static func isDirectory(_ path: String) -> Bool { status(path)?.type == .directory }

    /// Whether `path` is a regular file (following symlinks).
    public static func isRegularFile(_ path: String) -> Bool { status(path)?.type == .regular }

    /// The size of the file at `path` in bytes, 0 when it is absent.
    public static func size(_ path: String) -> Int64 { status(path)?.size ?? 0 }

    /// Size and modification time (seconds since the epoch) of `path`, nil when absent.
    public static func info(_ path: String) -> (size: Int64, modified: Double)? {
        guard let st = status(path) else { return nil }
        let t = st.st_mtim
        return (st.size, Double(t.tv_sec) + Double(t.tv_nsec) / 1e9)
    }

    /// `stat(2)` of `path` (following symlinks), nil when it fails.
    public static func status(_ path: String) -> Stat? {
        try? Stat(FilePath(path), followTargetSymlink: true, retryOnInterrupt: true)
    }

    /// Names in the directory `path` (without `.` and `..`), sorted; empty when it does not exist.
    public static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Creates the directory `path` and any missing parents; fine when it already exists.
    public static func makeDirectory(_ path: String, permissions: FilePermissions = [.ownerReadWriteExecute, .groupReadExecute, .otherReadExecute]) throws(SupportError) {
        if mkdir(path, permissions.rawValue) == 0 { return }
        let code = Syscall.lastError
        if code == .fileExists, isDirectory(path) { return }
        guard code == .noSuchFileOrDirectory else { throw .io(path: path, operation: "create folder", errno: code) }
        let parent = FilePath(path).removingLastComponent()
        guard !parent.isEmpty, parent.string != path else { throw .io(path: path, operation: "create folder", errno: code) }
        try makeDirectory(parent.string, permissions: permissions)
        if mkdir(path, permissions.rawValue) != 0, Syscall.lastError != .fileExists {
            throw .io(path: path, operation: "create folder", errno: Syscall.lastError)
        }
    }

    /// Removes the file, symlink or folder (with everything in it) at `path`; fine when it is absent.
    /// Symlinks are removed, never followed.
    public static func remove(_ path: String) {
        if unlink(path) == 0 { return }
        let code = Syscall.lastError
        guard code == .isDirectory || code == .notPermitted else { return }
        for name in list(path) { remove(join(path, name)) }
        _ = rmdir(path)
    }

    /// Renames `from` to `to`, replacing `to`: atomic on one file system (and on NFS and SMB
    /// shares). Across file systems (EXDEV) the file is copied to `to` under a temporary name first,
    /// then renamed into place, and `from` is removed.
    public static func move(_ from: String, to: String) throws(SupportError) {
        if rename(from, to) == 0 { return }
        let code = Syscall.lastError
        guard code == .improperLink else { throw .io(path: to, operation: "move \(from) here", errno: code) }
        try copy(from, to: to)
        remove(from)
    }

    /// ``copy(_:to:)`` through user memory, in 1 MiB pieces: where the kernel cannot copy.
    static func copyByReading(_ from: String, to: String) throws(SupportError) {
        let source = try ReadableFile(path: from)
        let writer: AtomicFileWriter
        do { writer = try AtomicFileWriter(destination: to) } catch { throw .wrap(error, path: to, operation: "create") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: WriteSlicing.sliceBytes, alignment: 64)
        defer { buffer.deallocate() }
        do {
            while true {
                let n = try source.read(into: buffer)
                if n == 0 { break }
                try writer.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            try writer.commit()
        } catch {
            writer.abort()
            throw .wrap(error, path: to, operation: "copy \(from) here")
        }
    }

    /// Puts the file `from` at `to` (replacing it) while keeping `from`, through a hard link, so a
    /// caller can remove `from` only after it has committed what `to` is for: a crash in between
    /// leaves `from` to be found again. Where no hard link can be made, `from` is moved instead.
    public static func linkReplacing(_ from: String, to: String) throws(SupportError) {
        remove(to)
        if link(from, to) != 0 { try move(from, to: to) }
    }

    /// Reads a whole small file; nil when it does not exist (or vanished, on a share).
    /// - Throws: ``SupportError/io(path:operation:errno:)``, or ``SupportError/tooLarge(path:limit:)``
    ///   when it holds more than `limit` bytes.
    public static func readIfPresent(_ path: String, limit: Int = 16 << 20) throws(SupportError) -> [UInt8]? {
        let file: ReadableFile
        do {
            file = try ReadableFile(path: path)
        } catch let SupportError.io(_, _, code) where isAbsence(code) {
            return nil
        }
        var out = [UInt8]()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n: Int
            do {
                n = try file.read(into: buffer)
            } catch let SupportError.io(_, _, code) where isAbsence(code) {
                return nil
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
            if out.count > limit { throw .tooLarge(path: path, limit: limit) }
        }
        return out
    }

    /// Reads a whole small file. - Throws: when it is absent, unreadable or larger than `limit`.
    public static func read(_ path: String, limit: Int = 16 << 20) throws(SupportError) -> [UInt8] {
        guard let bytes = try readIfPresent(path, limit: limit) else {
            throw .io(path: path, operation: "open for reading", errno: .noSuchFileOrDirectory)
        }
        return bytes
    }

    /// Writes `bytes` to `path` atomically (temporary file, fsync, rename). With `durable: false`
    /// nothing is fsynced: the rename stays atomic for readers, but a host crash may lose the file.
    public static func write<D: DataProtocol>(_ bytes: D, to path: String, durable: Bool = true) throws(SupportError) {
        do { try AtomicFile.write(bytes, to: path, durable: durable) } catch { throw .wrap(error, path: path, operation: "write") }
    }

    /// `path` and `components` joined with single slashes.
    public static func join(_ path: String, _ components: String...) -> String {
        var out = path
        for component in components where !component.isEmpty {
            if out.isEmpty { out = component; continue }
            let trailing = out.hasSuffix("/")
            let leading = component.hasPrefix("/")
            if trailing && leading { out += component.dropFirst() } else if trailing || leading { out += component } else { out += "/" + component }
        }
        return out
    }

    /// `path` made absolute against the current directory, with `.` and `..` components resolved
    /// lexically (symlinks are not followed).
    public static func absolute(_ path: String) -> String {
        var full = FilePath(path)
        if !full.isAbsolute {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            if getcwd(&buffer, buffer.count) != nil {
                let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                full = FilePath(cwd).pushing(full)
            }
        }
        full.lexicallyNormalize()
        return full.string
    }
}
