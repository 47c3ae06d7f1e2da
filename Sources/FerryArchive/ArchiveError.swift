/// Why packing, inspecting or unpacking a job archive failed; each message says what to do.
public enum ArchiveError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Which limit of ``UnpackLimits`` was passed.
    public enum Limit: String, Sendable {
        case entryCount = "entry count"
        case entrySize = "entry size"
        case totalSize = "total size"
        case compressionRatio = "compression ratio"
    }

    /// The job folder to pack is missing or not a directory.
    case notADirectory(String)
    /// A system call failed on a path.
    case io(path: String, operation: String, reason: String)
    /// The job folder holds something other than regular files and directories (symlink, FIFO, device, socket).
    case unsupportedFile(path: String, kind: String)
    /// The job folder holds a file with the manifest's reserved name.
    case reservedName(String)
    /// A path is not a safe relative path (absolute, `..`, empty component, control characters, too long).
    case unsafePath(path: String, reason: String)
    /// The archive holds an entry of a kind unpack never creates (symlink, hardlink, device, FIFO, socket).
    case unsafeEntry(path: String, kind: String)
    /// The archive holds an entry the manifest does not list.
    case notInManifest(String)
    /// The manifest lists a file or directory the archive does not hold.
    case missingFromArchive(String)
    /// The archive holds the same path twice.
    case duplicateEntry(String)
    /// An entry's size differs from the manifest's.
    case sizeMismatch(path: String, expected: Int64, actual: Int64)
    /// An entry's SHA-256 differs from the manifest's.
    case digestMismatch(path: String, expected: String, actual: String)
    /// The first entry is not the manifest (nil: the archive is empty).
    case manifestMissing(firstEntry: String?)
    /// The manifest cannot be decoded or breaks its rules.
    case invalidManifest(String)
    /// An unpack limit was passed.
    case limitExceeded(Limit, String)
    /// libarchive could not read or write the archive (truncated, corrupt, unknown format).
    case corrupt(archive: String, message: String)
    /// The unpack destination exists and is not an empty directory.
    case destinationNotEmpty(String)
    /// The unpack destination's parent directory does not exist.
    case destinationParentMissing(String)
    /// A file changed while it was being packed.
    case fileChanged(String)
    /// ``JobArchive/readFile(_:fromArchive:maxBytes:)``: no such file in the archive.
    case fileNotFound(path: String, archive: String)
    /// ``JobArchive/readFile(_:fromArchive:maxBytes:)``: the file is larger than allowed.
    case fileTooLarge(path: String, size: Int64, maxBytes: Int)

    public var description: String {
        switch self {
        case .notADirectory(let path):
            return "\(path): not a directory; give the job folder (the one holding job.yaml)"
        case let .io(path, operation, reason):
            return "\(path): cannot \(operation): \(reason)"
        case let .unsupportedFile(path, kind):
            return "\(path): is a \(kind); job archives hold only regular files and directories — replace it with a copy of the file or remove it"
        case .reservedName(let path):
            return "\(path): this name is reserved for the archive manifest; rename or remove the file"
        case let .unsafePath(path, reason):
            return "unsafe path '\(Self.printable(path))': \(reason); refused (re-pack the job with `ferry job pack`)"
        case let .unsafeEntry(path, kind):
            return "refused entry '\(Self.printable(path))': it is a \(kind); job archives hold only regular files and directories"
        case .notInManifest(let path):
            return "refused entry '\(Self.printable(path))': not listed in the archive manifest (the archive was altered after packing)"
        case .missingFromArchive(let path):
            return "'\(Self.printable(path))' is listed in the manifest but missing from the archive (truncated or altered archive)"
        case .duplicateEntry(let path):
            return "refused entry '\(Self.printable(path))': it appears more than once in the archive"
        case let .sizeMismatch(path, expected, actual):
            return "'\(Self.printable(path))': size \(actual) bytes differs from the manifest's \(expected) bytes (the archive was altered after packing)"
        case let .digestMismatch(path, expected, actual):
            return "'\(Self.printable(path))': SHA-256 \(actual) differs from the manifest's \(expected) (the archive was altered or corrupted)"
        case .manifestMissing(let first):
            if let first {
                return "not a ferry job archive: the first entry is '\(Self.printable(first))', expected '\(ArchiveManifest.fileName)'; create archives with `ferry job pack`"
            }
            return "not a ferry job archive: the archive is empty; create archives with `ferry job pack`"
        case .invalidManifest(let reason):
            return "invalid archive manifest \(ArchiveManifest.fileName): \(reason)"
        case let .limitExceeded(limit, detail):
            return "refused: \(limit.rawValue) limit exceeded: \(detail); if the archive is trusted, raise the limit (see `ferry job unpack --help`)"
        case let .corrupt(archive, message):
            return "\(archive): cannot read archive: \(message) (truncated, corrupt, or not a tar.gz/tar.zst/zip archive)"
        case .destinationNotEmpty(let path):
            return "\(path): already exists and is not an empty directory; choose a new folder or remove it first"
        case .destinationParentMissing(let path):
            return "\(path): the parent directory does not exist; create it first (mkdir -p)"
        case .fileChanged(let path):
            return "\(path): changed while it was being packed; pack again when nothing writes to the job folder"
        case let .fileNotFound(path, archive):
            return "\(archive): holds no file '\(Self.printable(path))'"
        case let .fileTooLarge(path, size, maxBytes):
            return "'\(Self.printable(path))' is \(size) bytes, more than the \(maxBytes) bytes allowed here"
        }
    }

    /// Paths from hostile archives may hold control characters: escape them before printing.
    static func printable(_ path: String) -> String {
        var out = ""
        for scalar in path.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out.count > 300 ? String(out.prefix(300)) + "…" : out
    }
}
