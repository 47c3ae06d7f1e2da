import FerryArchive
import Foundation
import Testing
@testable import FerryWorkspace

/// A job's initial model is kept beside its archive (`files/`, `files.json`, `files.sig`), never inside
/// it: the archive stays small, the weights are not gzip-compressed, and the deployment does not carry them.
@Suite struct ExternalFilesTests {
    /// A job with a 1 MiB `models/initial.safetensors` (any bytes: the store does not parse it).
    private func jobWithModel(in dir: TempDir) throws -> (job: String, model: Data) {
        let job = try Fixtures.job(in: dir)
        let app = job + "/apps/server/app.yaml"
        try (try String(contentsOfFile: app, encoding: .utf8) + "\ninitial_model: ./models//initial.safetensors\n")
            .write(toFile: app, atomically: true, encoding: .utf8)
        var state: UInt64 = 42
        let model = Data((0..<(1 << 20)).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        })
        try FileManager.default.createDirectory(atPath: job + "/models", withIntermediateDirectories: true)
        try model.write(to: URL(fileURLWithPath: job + "/models/initial.safetensors"))
        return (job, model)
    }

    @Test func theInitialModelIsKeptBesideTheArchiveSignedAndVerified() throws {
        let dir = try TempDir()
        let workspace = try Fixtures.federation(in: dir)
        let store = try JobStore(workspace: workspace)
        let (job, model) = try jobWithModel(in: dir)
        let record = try store.submit(jobDirectoryOrArchive: job)

        let inspection = try JobArchive.inspect(archive: record.paths.archive)
        let packed = try #require(inspection.manifest).files.map(\.path)
        #expect(!packed.contains("models/initial.safetensors"), "\(packed)")
        #expect(packed.contains("job.yaml"))
        #expect(record.meta.archiveBytes < 64 << 10, "the archive holds no weights: \(record.meta.archiveBytes) bytes")
        #expect(FileManager.default.contents(atPath: record.paths.externalDirectory + "/models/initial.safetensors") == model)

        let files = try #require(try ExternalFiles.verified(record.paths, publicKey: workspace.keys.publicKey))
        #expect(files.files.map(\.path) == ["models/initial.safetensors"])
        #expect(files.archiveSHA256 == record.meta.archiveSHA256)
        try store.verify(id: record.id)

        // A clone gets the same archive and the same external files.
        let copy = try store.clone(id: record.id)
        #expect(copy.meta.archiveSHA256 == record.meta.archiveSHA256)
        #expect(FileManager.default.contents(atPath: copy.paths.externalDirectory + "/models/initial.safetensors") == model)

        // Placing them completes an unpacked job.
        let unpacked = dir.sub("unpacked")
        _ = try JobArchive.unpack(archive: record.paths.archive, into: unpacked)
        try files.place(from: record.paths, into: unpacked)
        #expect(FileManager.default.contents(atPath: unpacked + "/models/initial.safetensors") == model)
    }

    @Test func tamperedExternalFilesAreRefused() throws {
        let dir = try TempDir()
        let workspace = try Fixtures.federation(in: dir)
        let store = try JobStore(workspace: workspace)
        let record = try store.submit(jobDirectoryOrArchive: try jobWithModel(in: dir).job)
        let file = record.paths.externalDirectory + "/models/initial.safetensors"

        // One byte changed in the weights.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[1000] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: file))
        #expect { try store.verify(id: record.id) } throws: { error in
            "\(error)".contains("does not match files.json") && "\(error)".contains("tampered")
        }
        bytes[1000] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: file))
        try store.verify(id: record.id)

        // files.json rewritten to match other weights: its signature no longer verifies.
        let manifest = try String(contentsOfFile: record.paths.externalManifest, encoding: .utf8)
        try manifest.replacingOccurrences(of: "\"size\" : 1048576", with: "\"size\" : 1048577")
            .write(toFile: record.paths.externalManifest, atomically: true, encoding: .utf8)
        #expect(throws: WorkspaceError.self) { try store.verify(id: record.id) }
        try manifest.write(toFile: record.paths.externalManifest, atomically: true, encoding: .utf8)

        // files.sig gone: unsigned.
        try FileManager.default.removeItem(atPath: record.paths.externalSignature)
        #expect { try store.verify(id: record.id) } throws: { "\($0)".contains("files.sig is missing") }
    }
}
