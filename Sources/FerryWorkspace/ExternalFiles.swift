import Crypto
import FerrySupport
import Foundation
import SystemPackage

/// A job's large files, kept beside its archive instead of inside it (docs/workspaces.md, "External
/// files"): model weights are never gzip-compressed nor sent inside the deployment. They are the server
/// app's `initial_model`, which only the server needs (round 1 sends it as a task), and every file over
/// the submission's threshold; a client receives those of its own app folder by the chunked transfer.
///
/// `files/<path>` holds each file under its path in the job folder; `files.json` lists them with their
/// size and SHA-256 and the SHA-256 of the archive they belong to; `files.sig` signs `files.json`
/// (the same Ed25519 signature as `job.sig`, over the SHA-256 of `files.json`'s bytes).
public struct ExternalFiles: Codable, Sendable, Equatable {
    /// One file kept beside the archive.
    public struct File: Codable, Sendable, Equatable {
        /// Path relative to the job folder.
        public var path: String
        /// Size in bytes.
        public var size: Int64
        /// Lowercase hex SHA-256.
        public var sha256: String

        /// Checks that the file at `path` has this size and SHA-256.
        /// - Throws: ``WorkspaceError/signatureInvalid(path:reason:)`` naming `path` when it does not.
        public func check(at path: String) throws(WorkspaceError) {
            let (sha, size) = try JobSignature.digest(ofFile: path)
            guard sha == sha256, size == self.size else {
                throw .signatureInvalid(path: path, reason: "the file does not match files.json (size \(size), SHA-256 \(sha); expected \(self.size), \(sha256)): tampered or damaged")
            }
        }
    }

    /// SHA-256 of the job archive these files complete.
    public var archiveSHA256: String
    /// The files, sorted by path.
    public var files: [File]

    enum CodingKeys: String, CodingKey {
        case files
        case archiveSHA256 = "archive_sha256"
    }

    /// `path` made a plain relative path (`./a//b` → `a/b`); nil when it leaves the folder.
    public static func normalized(_ path: String) -> String? {
        var p = FilePath(path)
        p.lexicallyNormalize()
        let text = p.string
        guard !p.isAbsolute, !text.isEmpty, text != ".", !text.hasPrefix("..") else { return nil }
        return text
    }

    /// Copies the files `paths` of `jobDirectory` into `job/files/` and writes the signed `files.json`.
    static func store(_ relativePaths: [String], of jobDirectory: String, archiveSHA256: String, into job: JobPaths,
                      keys: SiteKeys) throws(WorkspaceError) {
        var files: [File] = []
        for path in relativePaths.sorted() {
            let source = FileSystem.join(jobDirectory, path)
            let destination = FileSystem.join(job.externalDirectory, path)
            do {
                try FileSystem.makeDirectory(FilePath(destination).removingLastComponent().string)
                let (sha, size) = try copyHashing(source, to: destination)
                files.append(File(path: path, size: size, sha256: sha))
            } catch {
                throw .io(path: destination, operation: "keep \(path) beside the archive", reason: "\(error)")
            }
        }
        let manifest = ExternalFiles(archiveSHA256: archiveSHA256, files: files)
        try JobStoreCoding.write(manifest, to: job.externalManifest)
        let bytes = try manifestBytes(job)
        let signature = try JobSignature.sign(sha256Hex: FileSHA256.hex(ofBytes: bytes), keys: keys)
        do {
            try AtomicFile.write(string: signature, to: job.externalSignature)
        } catch {
            throw .io(path: job.externalSignature, operation: "write", reason: "\(error)")
        }
    }

    /// Copies `source` to `destination` atomically in the kernel (as `cp` does), then hashes the copy
    /// (read back from the page cache).
    private static func copyHashing(_ source: String, to destination: String) throws -> (sha256: String, size: Int64) {
        let size = FileSystem.size(source)
        try FileSystem.copy(source, to: destination)
        let (sha, hashed) = try FileSHA256.hex(of: destination)
        guard hashed == size else { throw SupportError.malformed(path: source, reason: "the file changed while it was copied") }
        return (sha, hashed)
    }

    private static func manifestBytes(_ job: JobPaths) throws(WorkspaceError) -> [UInt8] {
        do {
            return try FileSystem.read(job.externalManifest)
        } catch {
            throw .io(path: job.externalManifest, operation: "read", reason: "\(error)")
        }
    }

    /// The job's external files, checked: `files.sig` against `publicKey`, the archive's SHA-256, and
    /// every file's size and SHA-256. Nil for a job without external files.
    /// - Parameter archiveSHA256: the archive's SHA-256 when the caller has just computed it (checking
    ///   `job.sig` does); otherwise the archive is hashed here.
    /// - Throws: ``WorkspaceError/signatureInvalid(path:reason:)`` when anything does not match.
    public static func verified(_ job: JobPaths, publicKey: Curve25519.Signing.PublicKey,
                                archiveSHA256: String? = nil) throws(WorkspaceError) -> ExternalFiles? {
        guard FileSystem.exists(job.externalManifest) else { return nil }
        let bytes = try manifestBytes(job)
        guard let signature = try? FileSystem.read(job.externalSignature) else {
            throw .signatureInvalid(path: job.externalManifest, reason: "files.sig is missing (unsigned external files)")
        }
        let archiveSHA: String
        if let archiveSHA256 { archiveSHA = archiveSHA256 } else { archiveSHA = try JobSignature.digest(ofFile: job.archive).sha256 }
        let manifest = try signed(bytes, signature: String(decoding: signature, as: UTF8.self), publicKey: publicKey,
                                  archiveSHA256: archiveSHA, label: job.externalManifest)
        for file in manifest.files {
            try file.check(at: FileSystem.join(job.externalDirectory, file.path))
        }
        return manifest
    }

    /// The text of `files.json` and `files.sig` (base64), for a client that needs some of the files.
    public static func signedText(_ job: JobPaths) throws(WorkspaceError) -> (manifest: String, signature: String) {
        let bytes = try manifestBytes(job)
        guard let signature = try? FileSystem.read(job.externalSignature) else {
            throw .signatureInvalid(path: job.externalManifest, reason: "files.sig is missing (unsigned external files)")
        }
        return (String(decoding: bytes, as: UTF8.self), String(decoding: signature, as: UTF8.self))
    }

    /// A `files.json` checked: `signature` (the text of `files.sig`) against `publicKey`, that it belongs
    /// to the archive whose SHA-256 is `archiveSHA256`, and that every path stays inside the job folder.
    /// `label` names it in errors. The files themselves are checked with ``File/check(at:)``.
    /// - Throws: ``WorkspaceError/signatureInvalid(path:reason:)`` when anything does not match.
    public static func signed(_ bytes: [UInt8], signature: String, publicKey: Curve25519.Signing.PublicKey,
                              archiveSHA256: String, label: String) throws(WorkspaceError) -> ExternalFiles {
        try JobSignature.verify(sha256Hex: FileSHA256.hex(ofBytes: bytes), signatureText: signature,
                                publicKey: publicKey, archive: label)
        let manifest: ExternalFiles
        do {
            manifest = try JobStoreCoding.decoder().decode(ExternalFiles.self, from: Data(bytes))
        } catch {
            throw .signatureInvalid(path: label, reason: "cannot decode files.json: \(error)")
        }
        guard archiveSHA256 == manifest.archiveSHA256 else {
            throw .signatureInvalid(path: label, reason: "files.json belongs to another archive (SHA-256 \(manifest.archiveSHA256), job.tar.gz has \(archiveSHA256))")
        }
        for file in manifest.files where normalized(file.path) != file.path {
            throw .signatureInvalid(path: label, reason: "unsafe path '\(file.path)'")
        }
        return manifest
    }

    /// The files under `folder` (a path relative to the job folder, such as `apps/trainer`).
    public func files(under folder: String) -> [File] {
        guard let prefix = Self.normalized(folder) else { return files }
        return files.filter { $0.path.hasPrefix(prefix + "/") }
    }

    /// Puts every file at its path under `directory` (an unpacked job): a hard link, or a copy where
    /// links cannot be made.
    public func place(from job: JobPaths, into directory: String) throws(WorkspaceError) {
        for file in files {
            let source = FileSystem.join(job.externalDirectory, file.path)
            let destination = FileSystem.join(directory, file.path)
            do {
                try FileSystem.makeDirectory(FilePath(destination).removingLastComponent().string)
                FileSystem.remove(destination)
                if link(source, destination) != 0 { try FileSystem.copy(source, to: destination) }
            } catch {
                throw .io(path: destination, operation: "place \(file.path) from files/", reason: "\(error)")
            }
        }
    }
}
