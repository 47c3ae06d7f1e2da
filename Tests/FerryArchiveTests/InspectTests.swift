import Foundation
import Testing
@testable import FerryArchive

@Suite struct InspectTests {
    @Test func inspectListsAndVerifiesAPackedJob() throws {
        let scratch = try Scratch()
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        let archive = scratch.file("a.tar.gz")
        let packed = try JobArchive.pack(directory: job, to: archive, format: .tarGz)
        let inspection = try JobArchive.inspect(archive: archive)
        #expect(inspection.verified)
        #expect(inspection.problem == nil)
        #expect(inspection.sha256 == packed.sha256)
        #expect(inspection.bytes == packed.bytes)
        #expect(inspection.manifest == packed.manifest)
        #expect(inspection.compressionName == "gzip")
        let files = inspection.entries.filter { !$0.isDirectory }
        #expect(files.map(\.path) == packed.manifest.files.map(\.path))
        #expect(files.first { $0.path == "models/initial.safetensors" }?.size == 300_000)
        // Inspect writes nothing.
        #expect(try scratch.listing() == ["a.tar.gz", "job"])
    }

    @Test func inspectReportsATamperedArchiveAsUnverified() throws {
        let scratch = try Scratch()
        let honest: [RawEntry] = [.file("job.yaml", "name: a\n")]
        var manifest = RawArchive.manifest(for: honest)
        manifest.files[0].sha256 = String(repeating: "0", count: 64)
        try RawArchive.write(honest, manifest: manifest, to: scratch.file("t.zip"), format: .zip)
        let inspection = try JobArchive.inspect(archive: scratch.file("t.zip"))
        #expect(!inspection.verified)
        guard case .digestMismatch(let path, _, _) = inspection.problem else {
            Issue.record("expected a digest mismatch, got \(String(describing: inspection.problem))")
            return
        }
        #expect(path == "job.yaml")
        #expect(inspection.manifest != nil)
    }

    @Test func inspectOfAMissingFileThrows() throws {
        let scratch = try Scratch()
        #expect(throws: ArchiveError.self) { _ = try JobArchive.inspect(archive: scratch.file("missing.tar.gz")) }
    }

    @Test func manifestRoundTripsAndRejectsBadRecords() throws {
        let manifest = ArchiveManifest(directories: ["b", "a"], files: [
            .init(path: "b/x", size: 1, sha256: String(repeating: "a", count: 64), executable: true),
            .init(path: "a/y", size: 2, sha256: String(repeating: "b", count: 64), executable: false),
        ])
        #expect(manifest.directories == ["a", "b"])
        #expect(manifest.files.map(\.path) == ["a/y", "b/x"])
        let decoded = try ArchiveManifest.decode(try manifest.encoded())
        #expect(decoded == manifest)
        #expect(try manifest.encoded() == (try decoded.encoded()))

        var orphan = manifest
        orphan.directories = ["a"]
        #expect(throws: ArchiveError.self) { _ = try ArchiveManifest.decode(try orphan.encoded()) }
        var badDigest = manifest
        badDigest.files[0].sha256 = "XYZ"
        #expect(throws: ArchiveError.self) { _ = try ArchiveManifest.decode(try badDigest.encoded()) }
        var future = manifest
        future.version = 99
        let error = expectArchiveError({ _ = try ArchiveManifest.decode(try future.encoded()) }) {
            if case .invalidManifest(let reason) = $0 { return reason.contains("upgrade") }
            return false
        }
        #expect(error != nil)
    }
}
