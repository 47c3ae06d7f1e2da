import FerrySupport
import SystemPackage

/// The destination of an unpack: checked up front, filled through a staging folder beside it.
struct UnpackTarget {
    /// The destination as given (for messages).
    let given: String
    /// Its parent directory and last component.
    let parent: String
    let name: String

    /// Checks that the destination is absent or an empty directory and that its parent exists.
    init(_ directory: String) throws {
        given = directory
        var path = directory
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFDIR, Self.isEmptyDirectory(path) else {
                throw ArchiveError.destinationNotEmpty(directory)
            }
            // An existing (empty) folder: resolve it so `.` and `..` name a real parent.
            guard let resolved = realpath(path, nil) else {
                throw ArchiveError.io(path: directory, operation: "resolve", reason: errnoText())
            }
            path = String(cString: resolved)
            free(resolved)
        }
        let filePath = FilePath(path)
        guard let last = filePath.lastComponent?.string, last != ".", last != "..", path != "/" else {
            throw ArchiveError.destinationNotEmpty(directory)
        }
        name = last
        let parentPath = filePath.removingLastComponent().string
        parent = parentPath.isEmpty ? "." : parentPath
        guard stat(parent, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw ArchiveError.destinationParentMissing(directory)
        }
    }

    /// Creates `.NAME.unpack-XXXXXX` beside the destination (mode 0700 until published). The path is
    /// registered in ``StagingRegistry`` before the folder exists, so an interrupt can never miss it;
    /// the caller unregisters it.
    func makeStagingDirectory() throws -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        for _ in 0..<100 {
            let suffix = String((0..<6).map { _ in letters.randomElement()! })
            let path = FileSystem.join(parent, ".\(name).unpack-\(suffix)")
            StagingRegistry.add(path)
            if mkdir(path, 0o700) == 0 { return path }
            let code = errno
            StagingRegistry.remove(path)
            if code != EEXIST {
                throw ArchiveError.io(path: parent, operation: "create a staging folder in", reason: errnoText(code))
            }
        }
        throw ArchiveError.io(path: parent, operation: "create a staging folder in", reason: "too many name collisions")
    }

    /// Renames the staging folder into place (replacing an empty destination folder).
    func publish(_ staging: String) throws {
        let destination = FileSystem.join(parent, name)
        guard rename(staging, destination) == 0 else {
            if errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR {
                throw ArchiveError.destinationNotEmpty(given)
            }
            throw ArchiveError.io(path: given, operation: "rename the unpacked folder into place", reason: errnoText())
        }
        AtomicFile.syncDirectory(FilePath(parent))
    }

    private static func isEmptyDirectory(_ path: String) -> Bool {
        guard let dir = opendir(path) else { return false }
        defer { closedir(dir) }
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: &ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 3) { String(cString: $0) }
            }
            if name != "." && name != ".." { return false }
        }
        return true
    }
}
