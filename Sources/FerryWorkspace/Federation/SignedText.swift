import Crypto
import Foundation
import FerrySupport

/// The signing scheme of site cards and federation files (docs/deployment.md, "Signed files"): a UTF-8
/// YAML text whose last line is `signature: "<base64>"`. The signature is Ed25519 over the ASCII text
/// `<domain>:` followed by the lowercase hex SHA-256 of every byte before that last line (the body).
enum SignedText {
    static let signatureKey = "signature: "

    /// `body` (ending in a newline) with its signature line appended.
    static func sign(body: String, domain: String, keys: SiteKeys) throws(FederationError) -> String {
        do {
            let signature = try keys.sign(message(body: Array(body.utf8), domain: domain))
            return body + signatureKey + "\"" + signature.base64EncodedString() + "\"\n"
        } catch {
            throw .io(path: "-", operation: "sign the \(domain) text", reason: "\(error)")
        }
    }

    /// The body and the decoded signature of a signed text, or a reason why it has none.
    static func split(_ bytes: [UInt8]) -> (body: [UInt8], signature: Data)? {
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        let lineStart = (bytes[..<end].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        let line = String(decoding: bytes[lineStart..<end], as: UTF8.self)
        guard line.hasPrefix(signatureKey) else { return nil }
        let value = line.dropFirst(signatureKey.count).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        guard let signature = Data(base64Encoded: value), signature.count == 64 else { return nil }
        return (Array(bytes[..<lineStart]), signature)
    }

    /// Whether `signature` is `key`'s signature of `body` under `domain`.
    static func verify(body: [UInt8], signature: Data, domain: String, key: Curve25519.Signing.PublicKey) -> Bool {
        key.isValidSignature(signature, for: message(body: body, domain: domain))
    }

    static func message(body: [UInt8], domain: String) -> Data {
        Data((domain + ":" + FileSHA256.hex(ofBytes: body)).utf8)
    }

    /// Reads a small signed file (at most 1 MiB).
    static func read(_ path: String, kind: String) throws(FederationError) -> [UInt8] {
        let bytes: [UInt8]?
        do {
            bytes = try FileSystem.readIfPresent(path, limit: 1 << 20)
        } catch {
            throw .unreadable(path: path, reason: "cannot read the \(kind): \(error)")
        }
        guard let bytes else { throw .unreadable(path: path, reason: "no such \(kind) file") }
        return bytes
    }

    /// A double-quoted YAML scalar (JSON string syntax is valid YAML).
    static func quoted(_ s: String) -> String {
        let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    /// `SHA256:` and the first 16 hex digits of the SHA-256 of a public key's raw bytes: what two
    /// operators read to each other to check a card.
    static func fingerprint(_ publicKeyBase64: String) -> String {
        let raw = Data(base64Encoded: publicKeyBase64) ?? Data()
        return "SHA256:" + String(FileSHA256.hex(ofBytes: raw).prefix(16))
    }
}
