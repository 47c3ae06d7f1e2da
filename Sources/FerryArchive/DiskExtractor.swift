import FerrySupport
/// Writes verified entries below one directory, through directory descriptors only:
/// every component is created here (`mkdirat`) and opened with `O_NOFOLLOW | O_DIRECTORY`,
/// every file is created with `O_CREAT | O_EXCL | O_NOFOLLOW`, so no symlink is ever followed
/// and nothing can land outside the root.
final class DiskExtractor: VerifiedEntryHandler {
    private let rootFD: Int32
    private let rootPath: String
    private var fileFD: Int32 = -1
    private var filePath = ""

    init(root: String) throws {
        rootPath = root
        rootFD = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFD >= 0 else { throw ArchiveError.io(path: root, operation: "open", reason: errnoText()) }
    }

    deinit {
        if fileFD >= 0 { close(fileFD) }
        close(rootFD)
    }

    func directory(_ path: String) throws {
        close(try openDirectory(path))
    }

    func beginFile(_ file: ArchiveManifest.File) throws {
        let parent = try openDirectory(EntryPath.parent(of: file.path))
        defer { close(parent) }
        let name = String(file.path.split(separator: "/").last ?? "")
        let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure(file.path, "create") }
        fileFD = fd
        filePath = file.path
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Syscall.retryingInterrupts { Syscall.write(fileFD, bytes.baseAddress! + offset, bytes.count - offset) }
            guard n >= 0 else { throw failure(filePath, "write") }
            offset += n
        }
    }

    func endFile(_ file: ArchiveManifest.File) throws -> Bool {
        defer {
            close(fileFD)
            fileFD = -1
        }
        guard fchmod(fileFD, file.executable ? 0o755 : 0o644) == 0 else { throw failure(file.path, "set mode of") }
        guard fsync(fileFD) == 0 else { throw failure(file.path, "fsync") }
        return true
    }

    /// Makes the root's own mode 0755 and flushes it; called once everything verified.
    func finish() throws {
        guard fchmod(rootFD, 0o755) == 0 else { throw ArchiveError.io(path: rootPath, operation: "set mode of", reason: errnoText()) }
        _ = fsync(rootFD)
    }

    /// Opens `path` below the root, creating missing directories (mode 0755); the caller closes the result.
    private func openDirectory(_ path: String) throws -> Int32 {
        var fd = dup(rootFD)
        guard fd >= 0 else { throw failure(path, "open") }
        if path.isEmpty { return fd }
        var walked = ""
        for component in path.split(separator: "/") {
            let name = String(component)
            walked = walked.isEmpty ? name : FileSystem.join(walked, name)
            if mkdirat(fd, name, 0o700) != 0, errno != EEXIST {
                let err = failure(walked, "create directory")
                close(fd)
                throw err
            }
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let openErr = next < 0 ? failure(walked, "open directory") : nil
            close(fd)
            if let openErr { throw openErr }
            fd = next
            if fchmod(fd, 0o755) != 0 {
                let err = failure(walked, "set mode of")
                close(fd)
                throw err
            }
        }
        return fd
    }

    private func failure(_ relative: String, _ operation: String) -> ArchiveError {
        .io(path: FileSystem.join(rootPath, relative), operation: operation, reason: errnoText())
    }
}
