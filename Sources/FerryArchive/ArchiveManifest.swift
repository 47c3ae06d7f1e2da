import Foundation

/// The list of everything a job archive holds, stored as its first entry (``fileName``).
///
/// Every directory and every file of the archive is listed, sorted by path; each file with
/// its size and SHA-256. Unpacking refuses any entry the manifest does not list and any file
/// whose size or digest differs. See docs/archives.md for the exact JSON.
public struct ArchiveManifest: Codable, Equatable, Sendable {
    /// One regular file in the archive.
    public struct File: Codable, Equatable, Sendable {
        /// Relative path with `/` separators, no leading `/`, no `.` or `..` components.
        public var path: String
        /// Size in bytes.
        public var size: Int64
        /// Lowercase hex SHA-256 of the contents.
        public var sha256: String
        /// Whether the file is unpacked with mode 0755 (otherwise 0644).
        public var executable: Bool

        /// Creates a manifest file record.
        public init(path: String, size: Int64, sha256: String, executable: Bool) {
            self.path = path
            self.size = size
            self.sha256 = sha256
            self.executable = executable
        }
    }

    /// The archive entry name of the manifest; always the first entry.
    public static let fileName = ".ferry-manifest.json"
    /// The value of ``format``.
    public static let formatName = "ferry-job-archive"
    /// The manifest version this build writes and reads.
    public static let currentVersion = 1
    /// The largest manifest accepted when reading (a manifest is read into memory).
    public static let maxEncodedBytes = 16 << 20

    /// Always ``formatName``.
    public var format: String
    /// The manifest version (``currentVersion``).
    public var version: Int
    /// Every directory, sorted by path (UTF-8 byte order).
    public var directories: [String]
    /// Every regular file, sorted by path (UTF-8 byte order).
    public var files: [File]

    /// Creates a manifest; directories and files are sorted by path.
    public init(directories: [String], files: [File]) {
        self.format = Self.formatName
        self.version = Self.currentVersion
        self.directories = directories.sorted(by: PathOrder.less)
        self.files = files.sorted { PathOrder.less($0.path, $1.path) }
    }

    /// Sum of all file sizes.
    public var totalFileBytes: Int64 { files.reduce(0) { $0 + $1.size } }

    /// The canonical encoding: pretty-printed JSON with sorted keys, unescaped slashes and a final newline.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var bytes = [UInt8](try encoder.encode(self))
        bytes.append(0x0A)
        return bytes
    }

    /// Decodes and checks a manifest: format name, version, path syntax, no duplicates.
    public static func decode(_ bytes: [UInt8]) throws -> ArchiveManifest {
        let manifest: ArchiveManifest
        do {
            manifest = try JSONDecoder().decode(ArchiveManifest.self, from: Data(bytes))
        } catch {
            throw ArchiveError.invalidManifest("not valid manifest JSON (\(Self.describe(error)))")
        }
        guard manifest.format == formatName else {
            throw ArchiveError.invalidManifest("format is '\(manifest.format)', expected '\(formatName)'")
        }
        guard manifest.version == currentVersion else {
            throw ArchiveError.invalidManifest(
                "version \(manifest.version) is not supported (this ferry reads version \(currentVersion)); upgrade ferry")
        }
        var seen = Set<String>()
        for dir in manifest.directories {
            try EntryPath.check(dir)
            guard seen.insert(dir).inserted else { throw ArchiveError.invalidManifest("'\(dir)' is listed twice") }
        }
        for file in manifest.files {
            try EntryPath.check(file.path)
            guard seen.insert(file.path).inserted else {
                throw ArchiveError.invalidManifest("'\(file.path)' is listed twice")
            }
            guard file.size >= 0 else { throw ArchiveError.invalidManifest("'\(file.path)' has a negative size") }
            guard file.sha256.count == 64, file.sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw ArchiveError.invalidManifest("'\(file.path)' has a malformed sha256 (expected 64 lowercase hex digits)")
            }
        }
        let directories = Set(manifest.directories)
        for path in manifest.directories + manifest.files.map(\.path) {
            let parent = EntryPath.parent(of: path)
            guard parent.isEmpty || directories.contains(parent) else {
                throw ArchiveError.invalidManifest("'\(parent)', the folder of '\(path)', is not listed as a directory")
            }
        }
        return manifest
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx),
             DecodingError.dataCorrupted(let ctx):
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? ctx.debugDescription : "\(path): \(ctx.debugDescription)"
        default: return String(describing: error)
        }
    }
}

/// The order of archive entries: by the UTF-8 bytes of the relative path.
enum PathOrder {
    static func less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
