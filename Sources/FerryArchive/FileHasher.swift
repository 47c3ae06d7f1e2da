import FerrySupport

/// Regular files of a job folder (never through a symlink), hashed or streamed in 1 MiB pieces with
/// FerrySupport's file layer; failures as ``ArchiveError``s.
enum FileHasher {
    /// SHA-256 (hex) and size of the regular file at `path`; `read` is told the size of each piece.
    static func hash(_ path: String, read: ((Int64) -> Void)? = nil) throws -> (sha256: String, size: Int64) {
        do {
            return try FileSHA256.hex(of: path, followSymlinks: false, regularOnly: true) { read?(Int64($0)) }
        } catch {
            throw archiveError(error, path: path)
        }
    }

    /// Calls `body` with the contents of `path`. With a `limit`, the file must hold exactly that
    /// many bytes (otherwise ``ArchiveError/fileChanged(_:)``).
    static func stream(_ path: String, limit: Int64?, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let file: ReadableFile
        do {
            file = try ReadableFile(path: path, followSymlinks: false)
            _ = try file.regularFileSize()
        } catch {
            throw archiveError(error, path: path)
        }
        var done: Int64 = 0
        do {
            try file.forEachPiece { piece in
                done += Int64(piece.count)
                if let limit, done > limit { throw ArchiveError.fileChanged(path) }
                try body(piece)
            }
        } catch let error as SupportError {
            throw archiveError(error, path: path)
        }
        if let limit, done != limit { throw ArchiveError.fileChanged(path) }
    }

    private static func archiveError(_ error: SupportError, path: String) -> ArchiveError {
        switch error {
        case .notRegularFile: return .unsupportedFile(path: path, kind: "special file")
        case let .io(_, operation, errno): return .io(path: path, operation: operation, reason: errno.description)
        default: return .io(path: path, operation: "read", reason: error.description)
        }
    }
}
