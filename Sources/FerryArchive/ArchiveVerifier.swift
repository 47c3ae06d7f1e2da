import FerrySupport
import Crypto

/// Reports progress: bytes of file contents done, and the total the manifest announces.
public typealias ArchiveProgress = (_ done: Int64, _ total: Int64) -> Void

/// Receives the contents of an archive as it is verified, entry by entry.
protocol VerifiedEntryHandler: AnyObject {
    /// A directory entry (its path is in the manifest).
    func directory(_ path: String) throws
    /// A file entry begins (its path is in the manifest, its header size matches).
    func beginFile(_ file: ArchiveManifest.File) throws
    /// The next bytes of the current file (within the manifest's size and the limits).
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// The current file ended with the manifest's size and SHA-256. Return false to stop reading.
    func endFile(_ file: ArchiveManifest.File) throws -> Bool
}

/// What a verification pass found.
struct VerifiedArchive {
    var manifest: ArchiveManifest
    var formatName: String
    var filterName: String
    /// False when the handler stopped the pass early.
    var complete: Bool
}

/// Streams an archive through every safety check of docs/archives.md: the manifest first,
/// only listed, unique, plain entries with safe paths, sizes and digests as listed, and the
/// ``UnpackLimits`` — each checked before any byte past it reaches the handler.
enum ArchiveVerifier {
    static let bufferSize = 256 * 1024

    static func run(archive path: String, limits: UnpackLimits, handler: any VerifiedEntryHandler,
                    manifestRead: ((ArchiveManifest) throws -> Void)? = nil,
                    progress: ArchiveProgress? = nil) throws -> VerifiedArchive {
        try UTF8Locale.run {
            try verify(archive: path, limits: limits, handler: handler, manifestRead: manifestRead, progress: progress)
        }
    }

    private static func verify(archive path: String, limits: UnpackLimits, handler: any VerifiedEntryHandler,
                               manifestRead: ((ArchiveManifest) throws -> Void)?,
                               progress: ArchiveProgress?) throws -> VerifiedArchive {
        let reader = try ArchiveReader(path: path)
        let manifest = try readManifest(reader)
        try checkAgainstLimits(manifest, limits)
        try manifestRead?(manifest)

        var expectedFiles: [String: ArchiveManifest.File] = [:]
        for file in manifest.files { expectedFiles[file.path] = file }
        let expectedDirectories = Set(manifest.directories)
        var seen = Set<String>()
        var entryCount = 0
        var total: Int64 = 0
        let announced = manifest.totalFileBytes
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }

        while let header = try reader.next() {
            entryCount += 1
            if entryCount > limits.maxEntries {
                throw ArchiveError.limitExceeded(.entryCount, "more than \(limits.maxEntries) entries")
            }
            try EntryPath.check(header.path)
            if header.hardlink != nil || header.symlink != nil
                || (header.fileType != ArchiveReader.Header.regular && header.fileType != ArchiveReader.Header.directory) {
                throw ArchiveError.unsafeEntry(path: header.path, kind: header.kindDescription)
            }
            if header.path == ArchiveManifest.fileName || !seen.insert(header.path).inserted {
                throw ArchiveError.duplicateEntry(header.path)
            }
            if header.fileType == ArchiveReader.Header.directory {
                guard expectedDirectories.contains(header.path) else { throw ArchiveError.notInManifest(header.path) }
                try handler.directory(header.path)
                continue
            }
            guard let file = expectedFiles[header.path] else { throw ArchiveError.notInManifest(header.path) }
            if let size = header.size, size != file.size {
                throw ArchiveError.sizeMismatch(path: file.path, expected: file.size, actual: size)
            }
            try handler.beginFile(file)
            var hasher = SHA256()
            var fileBytes: Int64 = 0
            while true {
                let n = try reader.read(into: buffer)
                if n == 0 { break }
                fileBytes += Int64(n)
                total += Int64(n)
                if fileBytes > limits.maxEntryBytes {
                    throw ArchiveError.limitExceeded(.entrySize, "'\(ArchiveError.printable(file.path))' is larger than \(limits.maxEntryBytes) bytes")
                }
                if fileBytes > file.size {
                    throw ArchiveError.sizeMismatch(path: file.path, expected: file.size, actual: fileBytes)
                }
                if total > limits.maxTotalBytes {
                    throw ArchiveError.limitExceeded(.totalSize, "more than \(limits.maxTotalBytes) bytes in all")
                }
                try checkRatio(expanded: total, compressed: reader.compressedBytesRead, limits)
                let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                hasher.update(bufferPointer: piece)
                try handler.write(piece)
                progress?(total, announced)
            }
            if fileBytes != file.size {
                throw ArchiveError.sizeMismatch(path: file.path, expected: file.size, actual: fileBytes)
            }
            let digest = Hex.encode(hasher.finalize())
            if digest != file.sha256 {
                throw ArchiveError.digestMismatch(path: file.path, expected: file.sha256, actual: digest)
            }
            if try !handler.endFile(file) {
                return VerifiedArchive(manifest: manifest, formatName: reader.formatName,
                                       filterName: reader.filterName, complete: false)
            }
        }
        for path in manifest.directories where !seen.contains(path) { throw ArchiveError.missingFromArchive(path) }
        for file in manifest.files where !seen.contains(file.path) { throw ArchiveError.missingFromArchive(file.path) }
        progress?(total, announced)
        return VerifiedArchive(manifest: manifest, formatName: reader.formatName,
                               filterName: reader.filterName, complete: true)
    }

    /// Reads and decodes the first entry, which must be the manifest.
    private static func readManifest(_ reader: ArchiveReader) throws -> ArchiveManifest {
        guard let first = try reader.next() else { throw ArchiveError.manifestMissing(firstEntry: nil) }
        guard first.path == ArchiveManifest.fileName else { throw ArchiveError.manifestMissing(firstEntry: first.path) }
        guard first.fileType == ArchiveReader.Header.regular, first.hardlink == nil, first.symlink == nil else {
            throw ArchiveError.unsafeEntry(path: first.path, kind: first.kindDescription)
        }
        let max = ArchiveManifest.maxEncodedBytes
        if let size = first.size, size > Int64(max) {
            throw ArchiveError.invalidManifest("\(size) bytes, more than the \(max) bytes allowed")
        }
        var bytes: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try reader.read(into: buffer)
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if bytes.count > max { throw ArchiveError.invalidManifest("more than the \(max) bytes allowed") }
        }
        return try ArchiveManifest.decode(bytes)
    }

    /// Refuses a manifest that announces more than the limits allow, before anything is extracted.
    private static func checkAgainstLimits(_ manifest: ArchiveManifest, _ limits: UnpackLimits) throws {
        let count = manifest.files.count + manifest.directories.count
        if count > limits.maxEntries {
            throw ArchiveError.limitExceeded(.entryCount, "the manifest lists \(count) entries, more than \(limits.maxEntries)")
        }
        var total: Int64 = 0
        for file in manifest.files {
            if file.size > limits.maxEntryBytes {
                throw ArchiveError.limitExceeded(
                    .entrySize, "'\(ArchiveError.printable(file.path))' is \(file.size) bytes, more than \(limits.maxEntryBytes)")
            }
            total += file.size
            if total > limits.maxTotalBytes {
                throw ArchiveError.limitExceeded(.totalSize, "the manifest lists more than \(limits.maxTotalBytes) bytes in all")
            }
        }
    }

    private static func checkRatio(expanded: Int64, compressed: Int64, _ limits: UnpackLimits) throws {
        guard expanded > limits.ratioGraceBytes else { return }
        let ratio = Double(expanded) / Double(max(compressed, 1))
        if ratio > limits.maxCompressionRatio {
            throw ArchiveError.limitExceeded(
                .compressionRatio,
                "\(expanded) bytes expanded from \(compressed) compressed bytes (ratio \(Int(ratio)):1, limit \(Int(limits.maxCompressionRatio)):1)")
        }
    }
}
