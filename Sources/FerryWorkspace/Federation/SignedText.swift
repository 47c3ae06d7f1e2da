import Crypto
import Foundation
import FerrySupport
import Yams

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

    /// Decodes a signed file's YAML after checking its `format:` tag. A file that does not decode is
    /// reported as tampered when `undecodableIsTampered` (a file ferry wrote that no longer parses was
    /// edited), else as unreadable.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], path: String, format: String, kind: String,
                                     undecodableIsTampered: Bool = false) throws(FederationError) -> T {
        let text = String(decoding: bytes, as: UTF8.self)
        let header: FormatHeader
        do { header = try YAMLDecoder().decode(FormatHeader.self, from: text) } catch {
            throw undecodableIsTampered ? .tampered(path: path, kind: kind, reason: "it does not decode: \(error)")
                                        : .unreadable(path: path, reason: "not a ferry \(kind): \(error)")
        }
        guard header.format == format else {
            throw .unreadable(path: path, reason: "not a ferry \(kind) (format '\(header.format ?? "none")', expected \(format))")
        }
        do { return try YAMLDecoder().decode(T.self, from: text) } catch {
            throw undecodableIsTampered ? .tampered(path: path, kind: kind, reason: "it does not decode: \(error)")
                                        : .unreadable(path: path, reason: "not a ferry \(kind): \(error)")
        }
    }

    /// Writes a signed text atomically.
    static func write(_ text: String, to path: String, kind: String) throws(FederationError) {
        do {
            try AtomicFile.write(string: text, to: path)
        } catch {
            throw .io(path: path, operation: "write the \(kind)", reason: "\(error)")
        }
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

/// The `format:` tag every signed file starts with.
private struct FormatHeader: Decodable {
    var format: String?
}
