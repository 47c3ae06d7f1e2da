import Crypto
import Foundation
import FerrySupport

/// Signatures of job archives (`job.sig`).
///
/// The signed message is the ASCII text `ferry-job-v1:` followed by the lowercase hex SHA-256 of the
/// archive's bytes (so the archive is hashed as a stream and never has to fit in memory). `job.sig` holds the
/// standard base64 of the 64-byte Ed25519 signature and a newline.
public enum JobSignature {
    /// The prefix of the signed message.
    public static let domain = "ferry-job-v1:"

    /// The message signed for an archive whose SHA-256 is `sha256Hex`.
    public static func message(sha256Hex: String) -> Data { Data((domain + sha256Hex.lowercased()).utf8) }

    /// SHA-256 (lowercase hex) and size of a file, read in 1 MiB pieces.
    public static func digest(ofFile path: String) throws(WorkspaceError) -> (sha256: String, bytes: Int64) {
        do {
            let (sha, size) = try FileSHA256.hex(of: path)
            return (sha, size)
        } catch {
            throw .io(path: path, operation: "read", reason: error.description)
        }
    }

    /// Signs the archive at `archive` with `keys`; returns the `job.sig` text.
    public static func sign(archive: String, keys: SiteKeys) throws(WorkspaceError) -> String {
        let (sha, _) = try digest(ofFile: archive)
        return try sign(sha256Hex: sha, keys: keys)
    }

    /// Signs an archive known by its SHA-256; returns the `job.sig` text.
    public static func sign(sha256Hex: String, keys: SiteKeys) throws(WorkspaceError) -> String {
        do {
            return try keys.sign(message(sha256Hex: sha256Hex)).base64EncodedString() + "\n"
        } catch {
            throw .io(path: "job.sig", operation: "sign", reason: "\(error)")
        }
    }

    /// Checks that `signatureFile` holds a valid signature of `archive` by `publicKey`; returns the
    /// archive's SHA-256 (lowercase hex), so a caller that needs it does not read the archive again.
    /// - Throws: ``WorkspaceError/signatureInvalid(path:reason:)`` when the signature is missing, malformed or wrong.
    @discardableResult
    public static func verify(archive: String, signatureFile: String,
                              publicKey: Curve25519.Signing.PublicKey) throws(WorkspaceError) -> String {
        guard let data = FileManager.default.contents(atPath: signatureFile) else {
            throw .signatureInvalid(path: archive, reason: "no signature file \(signatureFile) (unsigned job)")
        }
        let (sha, _) = try digest(ofFile: archive)
        try verify(sha256Hex: sha, signatureText: String(decoding: data, as: UTF8.self), publicKey: publicKey,
                   archive: archive)
        return sha
    }

    /// Checks a signature given as `job.sig` text against an archive's SHA-256.
    public static func verify(sha256Hex: String, signatureText: String, publicKey: Curve25519.Signing.PublicKey,
                              archive: String) throws(WorkspaceError) {
        let text = signatureText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let signature = Data(base64Encoded: text), signature.count == 64 else {
            throw .signatureInvalid(path: archive, reason: "the signature is not base64 of 64 bytes")
        }
        guard publicKey.isValidSignature(signature, for: message(sha256Hex: sha256Hex)) else {
            throw .signatureInvalid(path: archive, reason: "the signature does not match the archive and the trusted key")
        }
    }
}
