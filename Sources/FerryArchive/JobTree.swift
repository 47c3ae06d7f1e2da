import FerrySupport
/// One directory or regular file found in a job folder.
struct TreeEntry {
    /// Path relative to the job folder, `/`-separated.
    var path: String
    var isDirectory: Bool
    var size: Int64
    var executable: Bool
}

/// Walks a job folder for packing: regular files and directories only, sorted by path, with the
/// version-control, OS and editor litter skipped (see ``isIgnored(_:)``).
enum JobTree {
    /// Names skipped wherever they appear.
    static let ignoredNames: Set<String> = [".git", ".hg", ".svn", ".DS_Store", "Thumbs.db", "__pycache__"]

    /// Whether a file or directory named `name` is left out of archives:
    /// VCS folders, `.DS_Store`, `Thumbs.db`, `__pycache__`, and editor temporaries
    /// (`*~`, `.*.swp`/`.swo`/`.swx`, `.#*`, `#*#`).
    static func isIgnored(_ name: String) -> Bool {
        if ignoredNames.contains(name) { return true }
        if name.hasSuffix("~") { return true }
        if name.hasPrefix(".#") { return true }
        if name.count > 1, name.hasPrefix("#"), name.hasSuffix("#") { return true }
        if name.hasPrefix("."), name.hasSuffix(".swp") || name.hasSuffix(".swo") || name.hasSuffix(".swx") { return true }
        return false
    }

    /// The identity of a file, used to leave the archive being written out of its own folder.
    struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    /// The identity of the file at `path`, or nil when there is none.
    static func identity(of path: String) -> FileIdentity? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// Every directory and regular file under `root`, sorted by path; `excluding` is skipped.
    static func scan(root: String, excluding: FileIdentity?) throws -> [TreeEntry] {
        var entries: [TreeEntry] = []
        try walk(root: root, relative: "", excluding: excluding, into: &entries)
        entries.sort { PathOrder.less($0.path, $1.path) }
        return entries
    }

    private static func walk(root: String, relative: String, excluding: FileIdentity?, into entries: inout [TreeEntry]) throws {
        let dirPath = relative.isEmpty ? root : FileSystem.join(root, relative)
        guard let dir = opendir(dirPath) else {
            throw ArchiveError.io(path: dirPath, operation: "list directory", reason: errnoText())
        }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw ArchiveError.io(path: dirPath, operation: "list directory", reason: errnoText()) }
                break
            }
            let name: String? = withUnsafePointer(to: &ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(validatingCString: $0) }
            }
            guard let name else {
                throw ArchiveError.unsafePath(path: FileSystem.join(dirPath, "<non-UTF-8 name>"), reason: "file names must be valid UTF-8; rename the file")
            }
            if name == "." || name == ".." || isIgnored(name) { continue }
            names.append(name)
        }
        for name in names {
            let rel = relative.isEmpty ? name : FileSystem.join(relative, name)
            let full = FileSystem.join(root, rel)
            if relative.isEmpty, name == ArchiveManifest.fileName { throw ArchiveError.reservedName(full) }
            var st = stat()
            guard lstat(full, &st) == 0 else {
                throw ArchiveError.io(path: full, operation: "stat", reason: errnoText())
            }
            if let excluding, excluding == FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) { continue }
            do { try EntryPath.check(rel) } catch ArchiveError.unsafePath(_, let reason) {
                throw ArchiveError.unsafePath(path: full, reason: reason + "; rename the file")
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                entries.append(TreeEntry(path: rel, isDirectory: true, size: 0, executable: false))
                try walk(root: root, relative: rel, excluding: excluding, into: &entries)
            case S_IFREG:
                entries.append(TreeEntry(path: rel, isDirectory: false, size: Int64(st.st_size),
                                         executable: st.st_mode & 0o100 != 0))
            case S_IFLNK:
                throw ArchiveError.unsupportedFile(path: full, kind: "symbolic link")
            case S_IFIFO:
                throw ArchiveError.unsupportedFile(path: full, kind: "FIFO (named pipe)")
            case S_IFSOCK:
                throw ArchiveError.unsupportedFile(path: full, kind: "socket")
            case S_IFCHR, S_IFBLK:
                throw ArchiveError.unsupportedFile(path: full, kind: "device file")
            default:
                throw ArchiveError.unsupportedFile(path: full, kind: "special file")
            }
        }
    }
}

/// The text of the current `errno`.
func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
