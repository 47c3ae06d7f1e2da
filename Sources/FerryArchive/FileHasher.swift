import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams regular files (never through a symlink) in 1 MiB pieces.
enum FileHasher {
    static let pieceSize = 1 << 20

    /// SHA-256 (hex) and size of the regular file at `path`; `read` is told the size of each piece.
    static func hash(_ path: String, read: ((Int64) -> Void)? = nil) throws -> (sha256: String, size: Int64) {
        var hasher = SHA256()
        var size: Int64 = 0
        try stream(path, limit: nil) { piece in
            hasher.update(bufferPointer: piece)
            size += Int64(piece.count)
            read?(Int64(piece.count))
        }
        return (Hex.encode(hasher.finalize()), size)
    }

    /// Calls `body` with the contents of `path`. With a `limit`, the file must hold exactly that
    /// many bytes (otherwise ``ArchiveError/fileChanged(_:)``).
    static func stream(_ path: String, limit: Int64?, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError.io(path: path, operation: "open", reason: errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ArchiveError.io(path: path, operation: "stat", reason: errnoText()) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw ArchiveError.unsupportedFile(path: path, kind: "special file") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: pieceSize, alignment: 16)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.io(path: path, operation: "read", reason: errnoText())
            }
            if n == 0 { break }
            done += Int64(n)
            if let limit, done > limit { throw ArchiveError.fileChanged(path) }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        if let limit, done != limit { throw ArchiveError.fileChanged(path) }
    }
}
