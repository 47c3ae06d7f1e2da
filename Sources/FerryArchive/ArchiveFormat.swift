/// The container and compression of a job archive.
///
/// `ferry job pack --format` takes the raw values. Reading detects the format from the bytes,
/// so any of the three can be inspected or unpacked whatever its file name.
public enum ArchiveFormat: String, CaseIterable, Sendable {
    /// POSIX pax (restricted) tar, gzip-compressed (level 6, no name, no timestamp).
    case tarGz = "tar.gz"
    /// POSIX pax (restricted) tar, zstd-compressed (level 3, single-threaded).
    case tarZst = "tar.zst"
    /// ZIP with deflate-compressed entries.
    case zip

    /// The file name extension, with its leading dot: `.tar.gz`, `.tar.zst`, `.zip`.
    public var fileExtension: String { "." + rawValue }

    /// The format a file name suggests by its extension (`.tgz` counts as `tar.gz`), or nil.
    public static func guess(fromFileName name: String) -> ArchiveFormat? {
        let lower = name.lowercased()
        if lower.hasSuffix(".tar.gz") || lower.hasSuffix(".tgz") { return .tarGz }
        if lower.hasSuffix(".tar.zst") || lower.hasSuffix(".tzst") { return .tarZst }
        if lower.hasSuffix(".zip") { return .zip }
        return nil
    }
}
