import CLibArchive
import Crypto
import Foundation
import Testing
@testable import FerryArchive

/// A temporary folder for one test, removed at the end.
final class Scratch {
    let url: URL
    var path: String { url.path }

    init(_ label: String = "archive") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Names directly inside the scratch folder, sorted.
    func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
}

/// Deterministic incompressible bytes.
func noise(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var out = [UInt8]()
    out.reserveCapacity(count)
    while out.count < count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        var v = state ^ (state >> 29)
        for _ in 0..<8 where out.count < count {
            out.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }
    return out
}

func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

/// Writes a small job-like folder: nested folders, an empty folder, an executable, binary data.
func makeJobFolder(at root: String) throws {
    let fm = FileManager.default
    func write(_ rel: String, _ bytes: [UInt8], mode: Int = 0o644) throws {
        let url = URL(fileURLWithPath: root).appendingPathComponent(rel)
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }
    try write("job.yaml", Array("name: hello\nmin_clients: 2\ndeploy:\n  server: [server]\n  client: all\n".utf8))
    try write("apps/server/app.yaml", Array("workflow: fedavg\nrounds: 2\n".utf8))
    try write("apps/client/app.yaml", Array("executor:\n  command: [custom/train.sh]\n".utf8))
    try write("apps/client/custom/train.sh", Array("#!/bin/sh\necho train\n".utf8), mode: 0o755)
    try write("models/initial.safetensors", noise(300_000, seed: 7))
    try write("apps/client/custom/ünïcode name.txt", Array("utf-8 names survive\n".utf8))
    try fm.createDirectory(atPath: root + "/apps/client/empty", withIntermediateDirectories: true)
}

/// Every file and directory below `root`: path → contents (nil for directories) and executable bit.
func snapshot(_ root: String) throws -> [String: (data: [UInt8]?, executable: Bool)] {
    var result: [String: (data: [UInt8]?, executable: Bool)] = [:]
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: root) else { return result }
    while let rel = walker.nextObject() as? String {
        let full = root + "/" + rel
        let attrs = try fm.attributesOfItem(atPath: full)
        let mode = (attrs[.posixPermissions] as? Int) ?? 0
        if attrs[.type] as? FileAttributeType == .typeDirectory {
            result[rel] = (nil, mode & 0o100 != 0)
        } else {
            result[rel] = ([UInt8](try Data(contentsOf: URL(fileURLWithPath: full))), mode & 0o100 != 0)
        }
    }
    return result
}

/// One entry of an archive written raw with libarchive, for building hostile archives.
struct RawEntry {
    enum Kind { case file, directory, symlink(String), hardlink(String), characterDevice, fifo }
    var path: String
    var kind: Kind = .file
    var data: [UInt8] = []
    /// The size the header claims (defaults to `data.count`).
    var declaredSize: Int64?

    static func file(_ path: String, _ text: String) -> RawEntry { RawEntry(path: path, data: Array(text.utf8)) }
    static func file(_ path: String, bytes: [UInt8]) -> RawEntry { RawEntry(path: path, data: bytes) }
    static func directory(_ path: String) -> RawEntry { RawEntry(path: path, kind: .directory) }
}

/// Writes archives entry by entry with libarchive, with no safety checks at all.
enum RawArchive {
    /// The honest manifest for the file and directory entries of `entries`.
    static func manifest(for entries: [RawEntry]) -> ArchiveManifest {
        var dirs: [String] = []
        var files: [ArchiveManifest.File] = []
        for e in entries {
            switch e.kind {
            case .directory: dirs.append(e.path)
            case .file: files.append(.init(path: e.path, size: Int64(e.data.count), sha256: sha256Hex(e.data), executable: false))
            default: break
            }
        }
        return ArchiveManifest(directories: dirs, files: files)
    }

    /// Writes `manifestEntry` (if any) then `entries` to `path` as tar.gz (or zip, or tar.zst).
    static func write(_ entries: [RawEntry], manifest: ArchiveManifest?, to path: String,
                      format: ArchiveFormat = .tarGz) throws {
        var all = entries
        if let manifest { all.insert(.file(ArchiveManifest.fileName, bytes: try manifest.encoded()), at: 0) }
        try writeEntries(all, to: path, format: format)
    }

    static func writeEntries(_ entries: [RawEntry], to path: String, format: ArchiveFormat) throws {
        let a = archive_write_new()!
        defer { archive_write_free(a) }
        switch format {
        case .tarGz:
            archive_write_set_format_pax_restricted(a)
            archive_write_add_filter_gzip(a)
        case .tarZst:
            archive_write_set_format_pax_restricted(a)
            archive_write_add_filter_zstd(a)
        case .zip:
            archive_write_set_format_zip(a)
        }
        try #require(archive_write_open_filename(a, path) == ARCHIVE_OK)
        for e in entries {
            let entry = archive_entry_new()!
            defer { archive_entry_free(entry) }
            archive_entry_set_pathname(entry, e.path)
            archive_entry_set_mtime(entry, 0, 0)
            var size = Int64(e.data.count)
            switch e.kind {
            case .file:
                archive_entry_set_filetype(entry, 0o100000)
                archive_entry_set_perm(entry, 0o644)
            case .directory:
                archive_entry_set_filetype(entry, 0o040000)
                archive_entry_set_perm(entry, 0o755)
                size = 0
            case .symlink(let target):
                archive_entry_set_filetype(entry, 0o120000)
                archive_entry_set_perm(entry, 0o777)
                archive_entry_set_symlink(entry, target)
                size = 0
            case .hardlink(let target):
                archive_entry_set_filetype(entry, 0o100000)
                archive_entry_set_perm(entry, 0o644)
                archive_entry_set_hardlink(entry, target)
                size = 0
            case .characterDevice:
                archive_entry_set_filetype(entry, 0o020000)
                archive_entry_set_perm(entry, 0o666)
                archive_entry_set_rdev(entry, 0x0103)
                size = 0
            case .fifo:
                archive_entry_set_filetype(entry, 0o010000)
                archive_entry_set_perm(entry, 0o644)
                size = 0
            }
            archive_entry_set_size(entry, e.declaredSize ?? size)
            let status = archive_write_header(a, entry)
            try #require(status >= ARCHIVE_WARN, "write header \(e.path): \(String(cString: archive_error_string(a)))")
            if size > 0 {
                let n = e.data.withUnsafeBytes { archive_write_data(a, $0.baseAddress, $0.count) }
                try #require(n >= 0, "write data \(e.path)")
            }
        }
        try #require(archive_write_close(a) == ARCHIVE_OK)
    }

    /// The entries of an archive as libarchive reads them: path, mode, uid, gid, mtime, uname, size.
    struct ReadEntry: Equatable {
        var path: String
        var mode: UInt32
        var uid: Int64
        var gid: Int64
        var mtime: Int
        var uname: String?
        var size: Int64
    }

    static func readEntries(_ path: String) throws -> [ReadEntry] {
        let a = archive_read_new()!
        defer { archive_read_free(a) }
        archive_read_support_filter_all(a)
        archive_read_support_format_all(a)
        try #require(archive_read_open_filename(a, path, 65536) == ARCHIVE_OK)
        var out: [ReadEntry] = []
        var entry: OpaquePointer?
        while archive_read_next_header(a, &entry) == ARCHIVE_OK {
            let e = entry!
            let name = archive_entry_pathname_utf8(e).map { String(cString: $0) } ?? String(cString: archive_entry_pathname(e))
            out.append(ReadEntry(path: name, mode: UInt32(archive_entry_mode(e)), uid: archive_entry_uid(e),
                                 gid: archive_entry_gid(e), mtime: archive_entry_mtime(e),
                                 uname: archive_entry_uname(e).map { String(cString: $0) }, size: archive_entry_size(e)))
            archive_read_data_skip(a)
        }
        return out
    }
}

/// Expects `body` to throw an ``ArchiveError`` matching `matches`; returns it.
@discardableResult
func expectArchiveError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation,
                        _ matches: (ArchiveError) -> Bool) -> ArchiveError? {
    do {
        try body()
        Issue.record("expected an ArchiveError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as ArchiveError {
        #expect(matches(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected an ArchiveError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
