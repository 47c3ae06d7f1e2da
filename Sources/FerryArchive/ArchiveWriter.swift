import CLibArchive
import Crypto
import FerrySupport

/// Writes a reproducible archive through libarchive into an ``AtomicFileWriter``, hashing the
/// output bytes on the way. Entries get fixed metadata: mtime 0, uid/gid 0, no user/group
/// names, mode 0755 (directories, executables) or 0644.
final class ArchiveWriter {
    /// Where libarchive's output goes; the callbacks reach it through the client-data pointer.
    final class Output {
        let file: AtomicFileWriter
        var hasher = SHA256()
        var bytes: Int64 = 0
        var failure: (any Error)?
        init(file: AtomicFileWriter) { self.file = file }
    }

    private let archive: OpaquePointer
    private let output: Output
    private let path: String
    private var closed = false

    init(path: String, format: ArchiveFormat) throws {
        self.path = path
        guard let a = archive_write_new() else {
            throw ArchiveError.io(path: path, operation: "create archive writer", reason: "out of memory")
        }
        archive = a
        do {
            output = Output(file: try AtomicFileWriter(destination: path))
        } catch {
            archive_write_free(a)
            throw ArchiveError.io(path: path, operation: "create", reason: String(describing: error))
        }
        do {
            try configure(format)
            let context = Unmanaged.passUnretained(output).toOpaque()
            try check(archive_write_open(archive, context, nil, archiveWriteCallback, nil), "open")
        } catch {
            archive_write_free(archive)
            output.file.abort()
            closed = true
            throw error
        }
    }

    deinit {
        if !closed {
            archive_write_free(archive)
            output.file.abort()
        }
    }

    private func configure(_ format: ArchiveFormat) throws {
        // No zero padding after the compressed stream: zstd readers take padding for a broken frame.
        try check(archive_write_set_bytes_in_last_block(archive, 1), "set block padding")
        switch format {
        case .tarGz:
            try check(archive_write_set_format_pax_restricted(archive), "set tar format")
            try check(archive_write_add_filter_gzip(archive), "add gzip")
            try check(archive_write_set_options(archive, "gzip:!timestamp,gzip:compression-level=6"), "set gzip options")
        case .tarZst:
            try check(archive_write_set_format_pax_restricted(archive), "set tar format")
            try check(archive_write_add_filter_zstd(archive), "add zstd")
            try check(archive_write_set_options(archive, "zstd:compression-level=3"), "set zstd options")
        case .zip:
            try check(archive_write_set_format_zip(archive), "set zip format")
            try check(archive_write_set_options(archive, "zip:compression=deflate"), "set zip options")
        }
    }

    /// Adds a directory entry.
    func addDirectory(_ relativePath: String) throws {
        try writeHeader(relativePath, directory: true, size: 0, executable: true)
    }

    /// Adds a regular file whose `size` bytes are produced by `body`, which calls `write` with pieces.
    func addFile(_ relativePath: String, size: Int64, executable: Bool,
                 body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        try writeHeader(relativePath, directory: false, size: size, executable: executable)
        var written: Int64 = 0
        try body { piece in
            guard piece.count > 0 else { return }
            written += Int64(piece.count)
            guard written <= size else { throw ArchiveError.fileChanged(relativePath) }
            var offset = 0
            while offset < piece.count {
                let n = archive_write_data(archive, piece.baseAddress! + offset, piece.count - offset)
                if n < 0 { try fail("write \(relativePath)") }
                offset += n
            }
        }
        guard written == size else { throw ArchiveError.fileChanged(relativePath) }
        try check(archive_write_finish_entry(archive), "finish \(relativePath)")
    }

    private func writeHeader(_ relativePath: String, directory: Bool, size: Int64, executable: Bool) throws {
        guard let entry = archive_entry_new() else {
            throw ArchiveError.io(path: path, operation: "create entry", reason: "out of memory")
        }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname_utf8(entry, relativePath)
        archive_entry_set_filetype(entry, directory ? 0o040000 : 0o100000)
        archive_entry_set_perm(entry, executable ? 0o755 : 0o644)
        archive_entry_set_size(entry, directory ? 0 : size)
        archive_entry_set_mtime(entry, 0, 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        try check(archive_write_header(archive, entry), "write header for \(relativePath)")
    }

    /// Closes the archive, publishes the file and returns its SHA-256 (hex) and size.
    func finish() throws -> (sha256: String, bytes: Int64) {
        try check(archive_write_close(archive), "close")
        archive_write_free(archive)
        closed = true
        if let failure = output.failure {
            output.file.abort()
            throw failure
        }
        do { try output.file.commit() } catch {
            throw ArchiveError.io(path: path, operation: "publish", reason: String(describing: error))
        }
        return (Hex.encode(output.hasher.finalize()), output.bytes)
    }

    private func check(_ status: Int32, _ operation: String) throws {
        if status < ARCHIVE_WARN { try fail(operation) }
    }

    private func fail(_ operation: String) throws -> Never {
        if let failure = output.failure { throw failure }
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
        throw ArchiveError.io(path: path, operation: operation, reason: message)
    }
}

/// libarchive's write callback: appends to the atomic file and the running hash.
private func archiveWriteCallback(_ archive: OpaquePointer?, _ context: UnsafeMutableRawPointer?,
                                  _ buffer: UnsafeRawPointer?, _ length: Int) -> Int {
    guard let context, let buffer else { return -1 }
    let output = Unmanaged<ArchiveWriter.Output>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
    do {
        try output.file.write(bytes)
    } catch {
        output.failure = error
        return -1
    }
    output.hasher.update(bufferPointer: bytes)
    output.bytes += Int64(length)
    return length
}
