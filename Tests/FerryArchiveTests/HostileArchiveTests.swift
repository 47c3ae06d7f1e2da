import Foundation
import Testing
@testable import FerryArchive

/// Every hostile archive is built here with libarchive's writer, then unpacked into `out` inside
/// a scratch folder. Each must be refused with the right error, leave no `out` and no staging
/// folder, and write nothing outside.
@Suite struct HostileArchiveTests {
    /// A fresh scratch folder with a base set of honest entries.
    struct Setup {
        let scratch: Scratch
        let archive: String
        let out: String
        let honest: [RawEntry] = [
            .file("job.yaml", "name: hostile\n"),
            .directory("apps"),
            .file("apps/app.yaml", "workflow: fedavg\n"),
        ]

        init(_ format: ArchiveFormat = .tarGz) throws {
            scratch = try Scratch("hostile")
            archive = scratch.file("evil" + format.fileExtension)
            out = scratch.file("out")
        }

        /// Unpacks, expects the refusal, and checks that nothing was left behind.
        @discardableResult
        func expectRefused(limits: UnpackLimits = .default, sourceLocation: SourceLocation = #_sourceLocation,
                           _ matches: (ArchiveError) -> Bool) throws -> ArchiveError? {
            let error = expectArchiveError({ _ = try JobArchive.unpack(archive: archive, into: out, limits: limits) },
                                           sourceLocation: sourceLocation, matches)
            #expect(!FileManager.default.fileExists(atPath: out), "partial target left", sourceLocation: sourceLocation)
            let left = try scratch.listing()
            #expect(left == [URL(fileURLWithPath: archive).lastPathComponent], "left behind: \(left)",
                    sourceLocation: sourceLocation)
            // inspect must refuse the same archive.
            let inspection = try JobArchive.inspect(archive: archive, limits: limits)
            #expect(!inspection.verified, sourceLocation: sourceLocation)
            #expect(inspection.problem != nil, sourceLocation: sourceLocation)
            return error
        }
    }

    @Test(arguments: [ArchiveFormat.tarGz, .zip])
    func zipSlipIsRefused(format: ArchiveFormat) throws {
        let s = try Setup(format)
        let escapeName = "escaped-\(UUID().uuidString)"
        try RawArchive.write(s.honest + [.file("../" + escapeName, "pwned")], manifest: RawArchive.manifest(for: s.honest),
                             to: s.archive, format: format)
        let error = try s.expectRefused {
            if case .unsafePath(_, let reason) = $0 { return reason.contains("'..'") }
            return false
        }
        #expect(error?.description.contains("..") == true)
        #expect(!FileManager.default.fileExists(atPath: s.scratch.file(escapeName)))
        #expect(!FileManager.default.fileExists(atPath: s.scratch.url.deletingLastPathComponent().appendingPathComponent(escapeName).path))
    }

    @Test func zipSlipListedInTheManifestIsRefusedToo() throws {
        let s = try Setup()
        let entries = s.honest + [.file("apps/../../x", "pwned")]
        // A manifest cannot even list such a path.
        var manifest = RawArchive.manifest(for: s.honest)
        manifest.files.append(.init(path: "apps/../../x", size: 5, sha256: sha256Hex(Array("pwned".utf8)), executable: false))
        try RawArchive.write(entries, manifest: manifest, to: s.archive)
        try s.expectRefused {
            if case .unsafePath(let path, _) = $0 { return path == "apps/../../x" }
            return false
        }
    }

    @Test func absolutePathIsRefused() throws {
        let s = try Setup()
        let target = s.scratch.file("abs-\(UUID().uuidString)")
        try RawArchive.write(s.honest + [.file(target, "pwned")], manifest: RawArchive.manifest(for: s.honest), to: s.archive)
        try s.expectRefused {
            if case .unsafePath(_, let reason) = $0 { return reason.contains("absolute") }
            return false
        }
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test(arguments: [ArchiveFormat.tarGz, .zip])
    func symlinkEscapeIsRefused(format: ArchiveFormat) throws {
        let s = try Setup(format)
        let outside = try Scratch("outside")
        let entries = s.honest + [RawEntry(path: "apps/link", kind: .symlink(outside.path)), .file("apps/link/pwned", "x")]
        try RawArchive.write(entries, manifest: RawArchive.manifest(for: s.honest), to: s.archive, format: format)
        let error = try s.expectRefused {
            if case .unsafeEntry(let path, let kind) = $0 { return path == "apps/link" && kind.contains("symbolic link") }
            return false
        }
        #expect(error?.description.contains(outside.path) == true)
        #expect(try outside.listing().isEmpty)
    }

    @Test func hardlinkIsRefused() throws {
        let s = try Setup()
        let entries = s.honest + [RawEntry(path: "apps/passwd", kind: .hardlink("/etc/passwd"))]
        try RawArchive.write(entries, manifest: RawArchive.manifest(for: s.honest), to: s.archive)
        try s.expectRefused {
            if case .unsafeEntry(let path, let kind) = $0 { return path == "apps/passwd" && kind.contains("hardlink") }
            return false
        }
    }

    @Test func deviceAndFIFOAreRefused() throws {
        let s = try Setup()
        try RawArchive.write(s.honest + [RawEntry(path: "apps/tty", kind: .characterDevice)],
                             manifest: RawArchive.manifest(for: s.honest), to: s.archive)
        try s.expectRefused {
            if case .unsafeEntry(_, let kind) = $0 { return kind == "character device" }
            return false
        }
        try RawArchive.write(s.honest + [RawEntry(path: "apps/pipe", kind: .fifo)],
                             manifest: RawArchive.manifest(for: s.honest), to: s.archive)
        try s.expectRefused {
            if case .unsafeEntry(_, let kind) = $0 { return kind.contains("FIFO") }
            return false
        }
    }

    @Test func tamperedFileIsRefused() throws {
        let s = try Setup()
        let manifest = RawArchive.manifest(for: s.honest)
        var tampered = s.honest
        tampered[0] = .file("job.yaml", "name: hostilE\n")   // same size, other bytes
        try RawArchive.write(tampered, manifest: manifest, to: s.archive)
        let error = try s.expectRefused {
            if case .digestMismatch(let path, _, _) = $0 { return path == "job.yaml" }
            return false
        }
        #expect(error?.description.contains("SHA-256") == true)
    }

    @Test func sizeDifferentFromTheManifestIsRefused() throws {
        let s = try Setup()
        let manifest = RawArchive.manifest(for: s.honest)
        var grown = s.honest
        grown[0] = .file("job.yaml", "name: hostile\n# and a much longer body than the manifest says\n")
        try RawArchive.write(grown, manifest: manifest, to: s.archive)
        try s.expectRefused {
            if case .sizeMismatch(let path, 14, _) = $0 { return path == "job.yaml" }
            return false
        }
    }

    @Test func entryNotInTheManifestIsRefused() throws {
        let s = try Setup()
        try RawArchive.write(s.honest + [.file("apps/extra.sh", "rm -rf ~")], manifest: RawArchive.manifest(for: s.honest),
                             to: s.archive)
        try s.expectRefused { $0 == .notInManifest("apps/extra.sh") }
    }

    @Test func fileMissingFromTheArchiveIsRefused() throws {
        let s = try Setup()
        try RawArchive.write(Array(s.honest.prefix(2)), manifest: RawArchive.manifest(for: s.honest), to: s.archive)
        try s.expectRefused { $0 == .missingFromArchive("apps/app.yaml") }
    }

    @Test func duplicateEntryIsRefused() throws {
        let s = try Setup()
        try RawArchive.write(s.honest + [s.honest[0]], manifest: RawArchive.manifest(for: s.honest), to: s.archive)
        try s.expectRefused { $0 == .duplicateEntry("job.yaml") }
    }

    @Test func archiveWithoutManifestFirstIsRefused() throws {
        let s = try Setup()
        try RawArchive.write(s.honest, manifest: nil, to: s.archive)
        try s.expectRefused { $0 == .manifestMissing(firstEntry: "job.yaml") }
        let manifestBytes = try RawArchive.manifest(for: s.honest).encoded()
        try RawArchive.writeEntries([s.honest[0], .file(ArchiveManifest.fileName, bytes: manifestBytes)] + s.honest.dropFirst(),
                                    to: s.archive, format: .tarGz)
        try s.expectRefused { $0 == .manifestMissing(firstEntry: "job.yaml") }
    }

    @Test func malformedManifestIsRefused() throws {
        let s = try Setup()
        try RawArchive.writeEntries([.file(ArchiveManifest.fileName, "{\"format\": \"ferry-job-archive\"")] + s.honest,
                                    to: s.archive, format: .tarGz)
        let error = try s.expectRefused {
            if case .invalidManifest = $0 { return true }
            return false
        }
        #expect(error?.description.contains(ArchiveManifest.fileName) == true)
    }

    @Test(arguments: [ArchiveFormat.tarGz, .tarZst, .zip])
    func truncatedArchiveIsRefused(format: ArchiveFormat) throws {
        let s = try Setup(format)
        let job = s.scratch.file("job")
        try makeJobFolder(at: job)
        let packed = try JobArchive.pack(directory: job, to: s.archive, format: format)
        try FileManager.default.removeItem(atPath: job)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: s.archive))
        try handle.truncate(atOffset: UInt64(packed.bytes / 2))
        try handle.close()
        try s.expectRefused { error in
            switch error {
            case .corrupt, .missingFromArchive, .sizeMismatch, .manifestMissing: return true
            default: return false
            }
        }
    }

    @Test(arguments: [ArchiveFormat.tarGz, .tarZst, .zip])
    func compressionBombIsRefusedWithDefaultLimits(format: ArchiveFormat) throws {
        let s = try Setup(format)
        let zeros = [UInt8](repeating: 0, count: 48 << 20)
        let entries = s.honest + [.directory("models"), .file("models/zeros.bin", bytes: zeros)]
        try RawArchive.write(entries, manifest: RawArchive.manifest(for: entries), to: s.archive, format: format)
        let error = try s.expectRefused {
            if case .limitExceeded(.compressionRatio, _) = $0 { return true }
            return false
        }
        #expect(error?.description.contains("raise the limit") == true)
        // The same archive unpacks when the user trusts it and raises the limit.
        var trusting = UnpackLimits.default
        trusting.maxCompressionRatio = 1_000_000
        _ = try JobArchive.unpack(archive: s.archive, into: s.out, limits: trusting)
        #expect((try FileManager.default.attributesOfItem(atPath: s.out + "/models/zeros.bin")[.size] as? Int) == 48 << 20)
    }

    @Test func bombWithALyingManifestIsStoppedByTheDeclaredSize() throws {
        let s = try Setup(.zip)
        let zeros = [UInt8](repeating: 0, count: 4 << 20)
        let entries = s.honest + [.file("big.bin", bytes: zeros)]
        var manifest = RawArchive.manifest(for: entries)
        let index = manifest.files.firstIndex { $0.path == "big.bin" }!
        manifest.files[index].size = 10
        try RawArchive.write(entries, manifest: manifest, to: s.archive, format: .zip)
        // The entry is refused as soon as its header (zip central directory) or its first expanded
        // bytes contradict the manifest's 10 bytes; the 4 MiB are never written.
        try s.expectRefused {
            if case .sizeMismatch(let path, 10, let actual) = $0 { return path == "big.bin" && actual > 10 }
            return false
        }
    }

    @Test func oversizeEntryTotalAndCountAreRefused() throws {
        let s = try Setup()
        let entries = s.honest + [.file("apps/big.bin", bytes: noise(5000, seed: 1)), .file("apps/b2.bin", bytes: noise(5000, seed: 2))]
        try RawArchive.write(entries, manifest: RawArchive.manifest(for: entries), to: s.archive)
        try s.expectRefused(limits: UnpackLimits(maxEntryBytes: 4000)) {
            if case .limitExceeded(.entrySize, let detail) = $0 { return detail.contains("apps/b") }
            return false
        }
        try s.expectRefused(limits: UnpackLimits(maxTotalBytes: 8000)) {
            if case .limitExceeded(.totalSize, _) = $0 { return true }
            return false
        }
        try s.expectRefused(limits: UnpackLimits(maxEntries: 3)) {
            if case .limitExceeded(.entryCount, _) = $0 { return true }
            return false
        }
        // Headers claiming sizes past the limit while the manifest lies small are stopped too:
        // the first such entry in archive order is refused before its bytes are written.
        var lying = RawArchive.manifest(for: entries)
        lying.files = lying.files.map { var f = $0; if f.path.hasSuffix(".bin") { f.size = 10 }; return f }
        try RawArchive.write(entries, manifest: lying, to: s.archive)
        try s.expectRefused(limits: UnpackLimits(maxEntryBytes: 4000)) {
            if case .sizeMismatch(let path, 10, 5000) = $0 { return path == "apps/big.bin" }
            return false
        }
        // Within the limits, the honest archive unpacks.
        try RawArchive.write(entries, manifest: RawArchive.manifest(for: entries), to: s.archive)
        let manifest = try JobArchive.unpack(archive: s.archive, into: s.out,
                                             limits: UnpackLimits(maxEntries: 5, maxEntryBytes: 5000, maxTotalBytes: 10_100))
        #expect(manifest.files.count == 4)
    }

    @Test func notAnArchiveIsRefused() throws {
        let s = try Setup()
        try Data(noise(4096, seed: 3)).write(to: URL(fileURLWithPath: s.archive))
        try s.expectRefused {
            if case .corrupt = $0 { return true }
            return false
        }
    }
}
