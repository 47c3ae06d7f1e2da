import Foundation
import Testing
@testable import FerryArchive

@Suite struct PackUnpackTests {
    @Test(arguments: ArchiveFormat.allCases)
    func packThenUnpackGivesAnIdenticalTree(format: ArchiveFormat) throws {
        let scratch = try Scratch()
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        let archive = scratch.file("job" + format.fileExtension)
        let packed = try JobArchive.pack(directory: job, to: archive, format: format)

        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: archive)))
        #expect(packed.bytes == Int64(bytes.count))
        #expect(packed.sha256 == sha256Hex(bytes))
        #expect(packed.manifest.files.count == 6)
        #expect(packed.manifest.directories.contains("apps/client/empty"))

        let out = scratch.file("out")
        let manifest = try JobArchive.unpack(archive: archive, into: out)
        #expect(manifest == packed.manifest)
        let original = try snapshot(job)
        let restored = try snapshot(out)
        #expect(Set(original.keys) == Set(restored.keys))
        for (path, value) in original {
            #expect(restored[path]?.data == value.data, "contents of \(path)")
            #expect(restored[path]?.executable == value.executable, "x bit of \(path)")
        }
        #expect(restored["apps/client/custom/train.sh"]?.executable == true)
        #expect(restored["job.yaml"]?.executable == false)
        // Only the target was created beside the archive: no staging folder left.
        #expect(try scratch.listing() == ["job", "job" + format.fileExtension, "out"].sorted())
    }

    @Test func manifestIsTheFirstEntryAndMetadataIsFixed() throws {
        let scratch = try Scratch()
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        let archive = scratch.file("a.tar.gz")
        try JobArchive.pack(directory: job, to: archive, format: .tarGz)
        let entries = try RawArchive.readEntries(archive)
        #expect(entries.first?.path == ArchiveManifest.fileName)
        let paths = entries.dropFirst().map { $0.path.hasSuffix("/") ? String($0.path.dropLast()) : $0.path }
        #expect(paths == paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for e in entries {
            #expect(e.uid == 0 && e.gid == 0 && e.mtime == 0, "metadata of \(e.path)")
            #expect(e.uname == nil || e.uname == "", "uname of \(e.path)")
            let perm = e.mode & 0o7777
            if e.mode & 0o170000 == 0o040000 || e.path.hasSuffix("train.sh") {
                #expect(perm == 0o755, "mode of \(e.path)")
            } else {
                #expect(perm == 0o644, "mode of \(e.path)")
            }
        }
        // The gzip header carries no timestamp (bytes 4-7) and no file name (flag bit 3).
        let head = [UInt8](try Data(contentsOf: URL(fileURLWithPath: archive)).prefix(10))
        #expect(head[0] == 0x1F && head[1] == 0x8B)
        #expect(head[3] & 0x08 == 0)
        #expect(head[4...7].allSatisfy { $0 == 0 })
    }

    @Test func skipsVersionControlAndEditorLitter() throws {
        let scratch = try Scratch()
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        let fm = FileManager.default
        try fm.createDirectory(atPath: job + "/.git/objects", withIntermediateDirectories: true)
        for name in [".git/HEAD", ".DS_Store", "apps/.app.yaml.swp", "job.yaml~", "apps/#notes#", ".#lock"] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: job + "/" + name))
        }
        let packed = try JobArchive.pack(directory: job, to: scratch.file("a.zip"), format: .zip)
        let paths = packed.manifest.files.map(\.path) + packed.manifest.directories
        #expect(!paths.contains { $0.contains(".git") || $0.contains(".DS_Store") || $0.hasSuffix("~") || $0.contains("#") || $0.hasSuffix(".swp") })
        #expect(paths.contains("job.yaml"))
    }

    @Test func packLeavesOutTheArchiveItWritesInsideTheFolder() throws {
        let scratch = try Scratch()
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        let inside = job + "/job.tar.gz"
        let first = try JobArchive.pack(directory: job, to: inside, format: .tarGz)
        let second = try JobArchive.pack(directory: job, to: inside, format: .tarGz)
        #expect(!second.manifest.files.contains { $0.path == "job.tar.gz" })
        #expect(first.sha256 == second.sha256)
    }

    @Test func packRefusesSymlinksAndFIFOs() throws {
        let scratch = try Scratch()
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        try FileManager.default.createSymbolicLink(atPath: job + "/apps/link", withDestinationPath: "/etc")
        let out = scratch.file("a.tar.gz")
        let error = expectArchiveError({ try JobArchive.pack(directory: job, to: out, format: .tarGz) }) {
            if case .unsupportedFile(let path, let kind) = $0 { return path.hasSuffix("apps/link") && kind == "symbolic link" }
            return false
        }
        #expect(error?.description.contains("symbolic link") == true)
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try scratch.listing() == ["job"])

        try FileManager.default.removeItem(atPath: job + "/apps/link")
        #expect(mkfifo(job + "/models/pipe", 0o644) == 0)
        expectArchiveError({ try JobArchive.pack(directory: job, to: out, format: .tarGz) }) {
            if case .unsupportedFile(_, let kind) = $0 { return kind.contains("FIFO") }
            return false
        }
        #expect(try scratch.listing() == ["job"])
    }

    @Test func packRefusesAMissingFolderAndTheReservedName() throws {
        let scratch = try Scratch()
        expectArchiveError({ try JobArchive.pack(directory: scratch.file("nope"), to: scratch.file("a.zip"), format: .zip) }) {
            $0 == .notADirectory(scratch.file("nope"))
        }
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: job + "/" + ArchiveManifest.fileName))
        expectArchiveError({ try JobArchive.pack(directory: job, to: scratch.file("a.zip"), format: .zip) }) {
            if case .reservedName = $0 { return true }
            return false
        }
    }

    @Test func unpackRefusesANonEmptyDestinationAndAcceptsAnEmptyOne() throws {
        let scratch = try Scratch()
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        let archive = scratch.file("a.tar.zst")
        try JobArchive.pack(directory: job, to: archive, format: .tarZst)

        let busy = scratch.file("busy")
        try FileManager.default.createDirectory(atPath: busy, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: busy + "/mine.txt"))
        expectArchiveError({ _ = try JobArchive.unpack(archive: archive, into: busy) }) { $0 == .destinationNotEmpty(busy) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: busy) == ["mine.txt"])

        let empty = scratch.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        _ = try JobArchive.unpack(archive: archive, into: empty + "/")
        #expect(FileManager.default.fileExists(atPath: empty + "/apps/client/custom/train.sh"))

        expectArchiveError({ _ = try JobArchive.unpack(archive: archive, into: scratch.file("no/such/dir")) }) {
            $0 == .destinationParentMissing(scratch.file("no/such/dir"))
        }
    }

    @Test func readFileReturnsVerifiedBytesAndStopsEarly() throws {
        let scratch = try Scratch()
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        let archive = scratch.file("a.tar.gz")
        try JobArchive.pack(directory: job, to: archive, format: .tarGz)
        let bytes = try JobArchive.readFile("job.yaml", fromArchive: archive, maxBytes: 1 << 20)
        #expect(bytes == [UInt8](try Data(contentsOf: URL(fileURLWithPath: job + "/job.yaml"))))
        expectArchiveError({ _ = try JobArchive.readFile("nope.yaml", fromArchive: archive, maxBytes: 100) }) {
            $0 == .fileNotFound(path: "nope.yaml", archive: archive)
        }
        expectArchiveError({ _ = try JobArchive.readFile("models/initial.safetensors", fromArchive: archive, maxBytes: 1000) }) {
            if case .fileTooLarge(_, 300_000, 1000) = $0 { return true }
            return false
        }
    }
}
