import Crypto
import Foundation

/// SHA-256 of whole files, read in 1 MiB pieces: the one hashing helper behind job archives, job
/// signatures and transfers (`ferry bench transfer` times it as the floor of a verifying side).
public enum FileSHA256 {
    /// The digest and size of the file at `path`.
    /// - Parameters:
    ///   - followSymlinks: with `false` a symlink at `path` is refused.
    ///   - regularOnly: refuse anything but a regular file (``SupportError/notRegularFile(path:)``).
    ///   - piece: told the size of each piece as it is hashed (progress).
    public static func digest(of path: String, followSymlinks: Bool = true, regularOnly: Bool = false,
                              piece: ((Int) -> Void)? = nil) throws(SupportError) -> (digest: [UInt8], size: Int64) {
        let file = try ReadableFile(path: path, followSymlinks: followSymlinks)
        if regularOnly { _ = try file.regularFileSize() }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            try file.forEachPiece { bytes in
                hasher.update(bufferPointer: bytes)
                size += Int64(bytes.count)
                piece?(bytes.count)
            }
        } catch {
            throw SupportError.wrap(error, path: path, operation: "read")
        }
        return (Array(hasher.finalize()), size)
    }

    /// The lowercase hex digest and size of the file at `path`.
    public static func hex(of path: String, followSymlinks: Bool = true, regularOnly: Bool = false,
                           piece: ((Int) -> Void)? = nil) throws(SupportError) -> (sha256: String, size: Int64) {
        let (digest, size) = try digest(of: path, followSymlinks: followSymlinks, regularOnly: regularOnly, piece: piece)
        return (Hex.encode(digest), size)
    }

    /// The lowercase hex SHA-256 of `bytes`.
    public static func hex<D: DataProtocol>(ofBytes bytes: D) -> String { Hex.encode(SHA256.hash(data: bytes)) }
}
