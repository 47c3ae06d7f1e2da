import FerrySupport
import Crypto
import Foundation

/// The sender's resume state: a small JSON file that pins the transfer id (and creation time) of an
/// interrupted send, so re-running the same command resumes it instead of starting a new transfer.
///
/// Named `.ferry-send-<key>.json`, where `<key>` is the first 16 hex digits of SHA-256 over the
/// absolute source path, the inbox paths and the chunking options; kept beside the source or in
/// ``TransferOptions/stateDirectory``; deleted when every receiver has acknowledged the transfer.
struct SenderState: Codable {
    var transferId: String
    var created: String
    var sourceSize: Int64
    var sourceModified: Double
    /// Sealed transfers: the manifest's `encryption` object, kept so that a resumed send writes the
    /// same manifest and seals with the same content key.
    var encryption: TransferEncryption? = nil
    /// Sealed transfers: the content key (base64). The state file is readable by its owner only and
    /// deleted when every receiver has acknowledged the transfer.
    var contentKey: String? = nil

    var contentKeyBytes: [UInt8]? {
        contentKey.flatMap { Data(base64Encoded: $0) }.map(Array.init).flatMap { $0.count == ContentCipher.keySize ? $0 : nil }
    }

    /// Whether this state belongs to a send with these recipients (nil: unencrypted).
    func matches(sealedTo recipients: [TransferRecipientKey]?) -> Bool {
        guard let recipients else { return encryption == nil }
        guard let encryption, contentKeyBytes != nil else { return false }
        return Set(encryption.recipients.map(\.publicKey)) == Set(recipients.map(\.base64))
    }

    static func path(source: String, inboxes: [String], options: TransferOptions) -> String {
        let abs = absolute(source)
        var key = "\(abs)\n" + inboxes.map(absolute).joined(separator: "\n")
        key += "\n\(options.mode.rawValue)\n\(options.chunkSize)\n\(options.chunkWindow)\n\(options.quantize?.rawValue ?? "-")"
        key += "\n" + options.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        let digest = Hex.encode(Array(SHA256.hash(data: Array(key.utf8)))).prefix(16)
        let dir = options.stateDirectory ?? (abs.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
        return FileSystem.join(dir.isEmpty ? "/" : dir, ".ferry-send-\(digest).json")
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return FileSystem.join(FileManager.default.currentDirectoryPath, path)
    }

    static func load(_ path: String) -> SenderState? {
        guard let bytes = try? FileSystem.readIfPresent(path) else { return nil }
        return try? JSONDecoder().decode(SenderState.self, from: Data(bytes))
    }

    /// Writes the state atomically, creating its folder (and missing parents) first.
    func save(_ path: String) throws(TransferError) {
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !dir.isEmpty, !FileSystem.isDirectory(dir) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw .io(path: dir, operation: "create the sender state folder", detail: error.localizedDescription)
            }
        }
        let data = (try? JSONEncoder().encode(self)) ?? Data()
        // Owner-only: a sealed transfer's state holds its content key.
        do { try AtomicFile.write(data, to: path, permissions: [.ownerReadWrite]) } catch {
            throw .io(path: path, operation: "write the sender state", detail: String(describing: error))
        }
    }
}
