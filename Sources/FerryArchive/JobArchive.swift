import FerrySupport
import Crypto
import Foundation

/// What ``JobArchive/pack(directory:to:format:progress:)`` wrote.
public struct PackResult: Sendable {
    /// The archive file.
    public var path: String
    /// Its format.
    public var format: ArchiveFormat
    /// Lowercase hex SHA-256 of the archive file.
    public var sha256: String
    /// Size of the archive file in bytes.
    public var bytes: Int64
    /// The manifest stored as its first entry.
    public var manifest: ArchiveManifest
}

/// One entry seen while inspecting an archive.
public struct ArchiveEntryInfo: Sendable, Equatable {
    /// Relative path.
    public var path: String
    /// True for directories.
    public var isDirectory: Bool
    /// File size in bytes (0 for directories).
    public var size: Int64
    /// Whether the file is executable (mode 0755).
    public var executable: Bool
}

/// What ``JobArchive/inspect(archive:limits:progress:)`` found.
public struct ArchiveInspection: Sendable {
    /// The archive file.
    public var path: String
    /// Size of the archive file in bytes.
    public var bytes: Int64
    /// Lowercase hex SHA-256 of the archive file.
    public var sha256: String
    /// The manifest, when the first entry could be decoded.
    public var manifest: ArchiveManifest?
    /// Entries verified, in archive order (all of them when ``verified``), manifest excluded.
    public var entries: [ArchiveEntryInfo]
    /// True when every check of a safe unpack passed: the archive would unpack as it is.
    public var verified: Bool
    /// Why verification failed, when it did.
    public var problem: ArchiveError?
    /// libarchive's names of the container format and compression, e.g. `POSIX pax interchange format`, `gzip`.
    public var containerName: String
    public var compressionName: String
}

/// Job archives: reproducible pack, verifying inspect, safe unpack. The format is described in docs/archives.md.
public enum JobArchive {
    /// Packs the job folder `directory` into `output` (written atomically; replaced if it exists).
    ///
    /// The archive is reproducible: the manifest first, then every directory and file sorted by
    /// path, with fixed metadata, so the same folder always gives the same bytes. VCS folders,
    /// `.DS_Store` and editor temporaries are skipped, as is `output` itself when it lies inside
    /// the folder. Symlinks and special files are refused. The job is not validated here; the CLI
    /// validates it with FerryJobs first.
    /// - Parameters:
    ///   - excluding: files (paths relative to `directory`) left out of the archive: the job store keeps
    ///     a job's model weights beside its archive (docs/workspaces.md, "External files").
    ///   - progress: called with the bytes processed so far and the total; every file is read
    ///     twice (hashed for the manifest, then written), so the total is twice the files' size.
    @discardableResult
    public static func pack(directory: String, to output: String, format: ArchiveFormat, excluding: Set<String> = [],
                            progress: ArchiveProgress? = nil) throws -> PackResult {
        try UTF8Locale.run {
            try packInLocale(directory: directory, to: output, format: format, excluding: excluding, progress: progress)
        }
    }

    private static func packInLocale(directory: String, to output: String, format: ArchiveFormat,
                                     excluding: Set<String>, progress: ArchiveProgress?) throws -> PackResult {
        var st = stat()
        guard stat(directory, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw ArchiveError.notADirectory(directory)
        }
        let root = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let tree = try JobTree.scan(root: root, excluding: JobTree.identity(of: output))
            .filter { $0.isDirectory || !excluding.contains($0.path) }
        if !UTF8Locale.isAvailable, let named = tree.first(where: { !$0.path.utf8.allSatisfy { $0 < 0x80 } }) {
            throw ArchiveError.unsafePath(path: FileSystem.join(root, named.path),
                                          reason: "non-ASCII names need a UTF-8 locale (install C.UTF-8) or an ASCII name")
        }

        // Every file is read twice: hashed for the manifest (which comes first), then written.
        let total = 2 * tree.reduce(Int64(0)) { $0 + $1.size }
        var done: Int64 = 0
        var files: [ArchiveManifest.File] = []
        for entry in tree where !entry.isDirectory {
            let (digest, size) = try FileHasher.hash(FileSystem.join(root, entry.path)) { piece in
                done += piece
                progress?(done, total)
            }
            guard size == entry.size else { throw ArchiveError.fileChanged(FileSystem.join(root, entry.path)) }
            files.append(.init(path: entry.path, size: size, sha256: digest, executable: entry.executable))
        }
        let manifest = ArchiveManifest(directories: tree.filter(\.isDirectory).map(\.path), files: files)
        let manifestBytes = try manifest.encoded()

        let writer = try ArchiveWriter(path: output, format: format)
        try writer.addFile(ArchiveManifest.fileName, size: Int64(manifestBytes.count), executable: false) { write in
            try manifestBytes.withUnsafeBytes { try write($0) }
        }
        var fileIndex = 0
        for entry in tree {
            if entry.isDirectory {
                try writer.addDirectory(entry.path)
                continue
            }
            let expected = files[fileIndex]
            fileIndex += 1
            let full = FileSystem.join(root, entry.path)
            var hasher = SHA256()
            try writer.addFile(entry.path, size: expected.size, executable: expected.executable) { write in
                try FileHasher.stream(full, limit: expected.size) { piece in
                    hasher.update(bufferPointer: piece)
                    try write(piece)
                    done += Int64(piece.count)
                    progress?(done, total)
                }
            }
            guard Hex.encode(hasher.finalize()) == expected.sha256 else { throw ArchiveError.fileChanged(full) }
        }
        let (sha, bytes) = try writer.finish()
        progress?(done, total)
        return PackResult(path: output, format: format, sha256: sha, bytes: bytes, manifest: manifest)
    }

    /// Reads the whole archive and runs every check of ``unpack(archive:into:limits:progress:)``
    /// without writing anything. Throws only when the archive file cannot be opened at all;
    /// a failed check gives `verified == false` and ``ArchiveInspection/problem``.
    /// - Parameter progress: called with file bytes verified so far and the total the manifest lists.
    public static func inspect(archive: String, limits: UnpackLimits = .default,
                               progress: ArchiveProgress? = nil) throws -> ArchiveInspection {
        let (sha, bytes) = try FileHasher.hash(archive)
        let recorder = EntryRecorder()
        var manifest: ArchiveManifest?
        var inspection = ArchiveInspection(path: archive, bytes: bytes, sha256: sha, manifest: nil, entries: [],
                                           verified: false, problem: nil, containerName: "unknown",
                                           compressionName: "unknown")
        do {
            let result = try ArchiveVerifier.run(archive: archive, limits: limits, handler: recorder,
                                                 manifestRead: { manifest = $0 }, progress: progress)
            inspection.verified = true
            inspection.containerName = result.formatName
            inspection.compressionName = result.filterName
        } catch let error as ArchiveError {
            inspection.problem = error
        }
        inspection.manifest = manifest
        inspection.entries = recorder.entries
        return inspection
    }

    /// Safely unpacks `archive` into `directory`, which must not exist or be an empty directory
    /// (its parent must exist). Everything is extracted into `.NAME.unpack-XXXXXX` beside it,
    /// verified, then renamed into place; on any failure that folder is removed and `directory`
    /// is left as it was. The manifest itself is not written; it is returned.
    public static func unpack(archive: String, into directory: String, limits: UnpackLimits = .default,
                              progress: ArchiveProgress? = nil) throws -> ArchiveManifest {
        let target = try UnpackTarget(directory)
        let staging = try target.makeStagingDirectory()
        defer { StagingRegistry.remove(staging) }
        do {
            let extractor = try DiskExtractor(root: staging)
            let result = try ArchiveVerifier.run(archive: archive, limits: limits, handler: extractor, progress: progress)
            try extractor.finish()
            try target.publish(staging)
            return result.manifest
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }

    /// Reads one file out of an archive, verified against the manifest (size and SHA-256),
    /// without unpacking the rest. Reading stops right after that file.
    /// - Throws: ``ArchiveError/fileNotFound(path:archive:)``, ``ArchiveError/fileTooLarge(path:size:maxBytes:)``,
    ///   or any verification error met on the way.
    public static func readFile(_ path: String, fromArchive archive: String, maxBytes: Int,
                                limits: UnpackLimits = .default) throws -> [UInt8] {
        let collector = FileCollector(path: path, maxBytes: maxBytes)
        _ = try ArchiveVerifier.run(archive: archive, limits: limits, handler: collector, manifestRead: { manifest in
            guard let file = manifest.files.first(where: { $0.path == path }) else {
                throw ArchiveError.fileNotFound(path: path, archive: archive)
            }
            if file.size > Int64(maxBytes) { throw ArchiveError.fileTooLarge(path: path, size: file.size, maxBytes: maxBytes) }
        })
        guard let bytes = collector.result else { throw ArchiveError.fileNotFound(path: path, archive: archive) }
        return bytes
    }
}

/// Records entries for ``JobArchive/inspect(archive:limits:progress:)``.
private final class EntryRecorder: VerifiedEntryHandler {
    var entries: [ArchiveEntryInfo] = []
    func directory(_ path: String) throws {
        entries.append(ArchiveEntryInfo(path: path, isDirectory: true, size: 0, executable: false))
    }
    func beginFile(_ file: ArchiveManifest.File) throws {}
    func write(_ bytes: UnsafeRawBufferPointer) throws {}
    func endFile(_ file: ArchiveManifest.File) throws -> Bool {
        entries.append(ArchiveEntryInfo(path: file.path, isDirectory: false, size: file.size, executable: file.executable))
        return true
    }
}

/// Keeps the bytes of one file for ``JobArchive/readFile(_:fromArchive:maxBytes:limits:)``.
private final class FileCollector: VerifiedEntryHandler {
    let path: String
    let maxBytes: Int
    private var collecting = false
    private var bytes: [UInt8] = []
    private(set) var result: [UInt8]?

    init(path: String, maxBytes: Int) {
        self.path = path
        self.maxBytes = maxBytes
    }
    func directory(_ path: String) throws {}
    func beginFile(_ file: ArchiveManifest.File) throws { collecting = file.path == path }
    func write(_ piece: UnsafeRawBufferPointer) throws {
        guard collecting else { return }
        bytes.append(contentsOf: piece)
        if bytes.count > maxBytes { throw ArchiveError.fileTooLarge(path: path, size: Int64(bytes.count), maxBytes: maxBytes) }
    }
    func endFile(_ file: ArchiveManifest.File) throws -> Bool {
        guard collecting else { return true }
        result = bytes
        return false
    }
}
