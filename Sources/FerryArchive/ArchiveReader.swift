import CLibArchive

/// A thin reader over libarchive, restricted to what job archives use: tar (pax, ustar, GNU)
/// and zip, compressed with gzip, zstd or nothing. No extraction to disk happens here.
final class ArchiveReader {
    /// The header of one archive entry, as the archive claims it.
    struct Header {
        /// The raw path (UTF-8 when the archive says so; a trailing `/` of directories removed).
        var path: String
        /// The file type bits (`S_IFMT`) of the entry's mode.
        var fileType: UInt32
        /// The target when the entry is a hardlink.
        var hardlink: String?
        /// The target when the entry is a symbolic link.
        var symlink: String?
        /// The size when the header states one.
        var size: Int64?

        static let regular: UInt32 = 0o100000
        static let directory: UInt32 = 0o040000
        static let symbolicLink: UInt32 = 0o120000
        static let characterDevice: UInt32 = 0o020000
        static let blockDevice: UInt32 = 0o060000
        static let fifo: UInt32 = 0o010000
        static let socket: UInt32 = 0o140000

        /// A word for the entry's kind, for error messages.
        var kindDescription: String {
            if let hardlink { return "hardlink to '\(ArchiveError.printable(hardlink))'" }
            if let symlink { return "symbolic link to '\(ArchiveError.printable(symlink))'" }
            switch fileType {
            case Self.regular: return "regular file"
            case Self.directory: return "directory"
            case Self.symbolicLink: return "symbolic link"
            case Self.characterDevice: return "character device"
            case Self.blockDevice: return "block device"
            case Self.fifo: return "FIFO (named pipe)"
            case Self.socket: return "socket"
            default: return "special file (type \(String(fileType, radix: 8)))"
            }
        }
    }

    private let archive: OpaquePointer
    /// The archive file, for messages.
    let path: String

    init(path: String) throws {
        self.path = path
        guard let a = archive_read_new() else {
            throw ArchiveError.io(path: path, operation: "create archive reader", reason: "out of memory")
        }
        archive = a
        archive_read_support_filter_gzip(a)
        archive_read_support_filter_zstd(a)
        archive_read_support_format_tar(a)
        archive_read_support_format_gnutar(a)
        archive_read_support_format_zip(a)
        if archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK {
            // Every stored property is set, so deinit frees `a`: freeing it here too would be a double free.
            throw ArchiveError.corrupt(archive: path, message: Self.errorString(a))
        }
    }

    deinit { archive_read_free(archive) }

    /// The next entry's header, or nil at the end of the archive.
    func next() throws -> Header? {
        var entryPointer: OpaquePointer?
        let status = archive_read_next_header(archive, &entryPointer)
        if status == ARCHIVE_EOF { return nil }
        guard status >= ARCHIVE_WARN, let entry = entryPointer else {
            throw ArchiveError.corrupt(archive: path, message: Self.errorString(archive))
        }
        let raw = archive_entry_pathname_utf8(entry) ?? archive_entry_pathname(entry)
        guard let raw, let name = String(validatingCString: raw) else {
            throw ArchiveError.unsafePath(path: "<unreadable name>", reason: "entry names must be valid UTF-8")
        }
        let fileType = UInt32(archive_entry_filetype(entry))
        var path = name
        if fileType == Header.directory, path.hasSuffix("/"), path.count > 1 { path.removeLast() }
        func text(_ p: UnsafePointer<CChar>?) -> String? {
            p.map { String(cString: $0) }
        }
        let hardlink = text(archive_entry_hardlink_utf8(entry) ?? archive_entry_hardlink(entry))
        let symlink = text(archive_entry_symlink_utf8(entry) ?? archive_entry_symlink(entry))
        let size: Int64? = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : nil
        return Header(path: path, fileType: fileType, hardlink: hardlink, symlink: symlink, size: size)
    }

    /// Reads the current entry's next bytes into `buffer`; 0 at the end of the entry.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
        if n < 0 { throw ArchiveError.corrupt(archive: path, message: Self.errorString(archive)) }
        return n
    }

    /// Compressed bytes consumed from the archive file so far.
    var compressedBytesRead: Int64 { archive_filter_bytes(archive, -1) }

    /// libarchive's name of the container format (after the first header).
    var formatName: String { archive_format_name(archive).map { String(cString: $0) } ?? "unknown" }

    /// The compression filter's name (`gzip`, `zstd`, `none`).
    var filterName: String {
        let count = archive_filter_count(archive)
        return count > 1 ? (archive_filter_name(archive, 0).map { String(cString: $0) } ?? "unknown") : "none"
    }

    private static func errorString(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}
