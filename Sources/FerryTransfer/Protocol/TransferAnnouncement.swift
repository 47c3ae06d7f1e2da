import Crypto
import FerrySupport
import Foundation

/// `INBOX/.ferry-announce/<sender-file>`: the transfers one sender started into this inbox, oldest
/// first (docs/transfer-protocol.md, section 1a).
///
/// The receiver reads this file by name on every pass, so it learns of a new transfer as soon as the
/// file's new version is visible to an open — on a share much sooner than a directory listing shows
/// the new transfer folder (sshfs: 20 s, NFS: up to `acdirmax`, 60 s by default).
public struct TransferAnnouncement: Codable, Equatable, Sendable, JSONRecord {
    /// `1`.
    public var protocolVersion: Int
    /// The sender's name, as in its manifests.
    public var sender: String
    /// Transfer ids (32 lowercase hex characters), oldest first, at most ``TransferAnnouncements/limit``.
    public var transfers: [String]

    static var isPrettyPrinted: Bool { false }
}

/// Writing and reading announcement files.
enum TransferAnnouncements {
    /// The folder of announcement files inside an inbox.
    static let folder = ".ferry-announce"
    /// Ids kept per sender: the oldest are dropped first (the receiver's sweep still finds them).
    static let limit = 256
    /// Serializes announcements of this process (several sends to one inbox from one site).
    private static let lock = NSLock()

    /// The announcement file name of a sender: the name itself when it is 1…64 of `A-Z a-z 0-9 . _ -`
    /// not starting with `.`, else `x-` and the first 32 hex characters of SHA-256 of its UTF-8 bytes.
    static func fileName(sender: String) -> String {
        let allowed = sender.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
        if allowed, !sender.isEmpty, sender.utf8.count <= 64, !sender.hasPrefix(".") { return sender }
        return "x-" + String(Hex.encode(Array(SHA256.hash(data: Array(sender.utf8)))).prefix(32))
    }

    static func path(inbox: String, fileName: String) -> String {
        FileSystem.join(inbox, folder, fileName)
    }

    /// Adds `id` to `sender`'s announcement file in `inbox` unless it is there. The file is replaced
    /// atomically and read back; a lost race with another process of the same sender is retried, and
    /// if it is lost three times the receiver's periodic sweep still finds the transfer folder.
    static func announce(id: String, sender: String, inbox: String) throws(TransferError) {
        lock.lock()
        defer { lock.unlock() }
        let dir = FileSystem.join(inbox, folder)
        try TransferError.io({ try FileSystem.makeDirectory(dir) })
        let path = path(inbox: inbox, fileName: fileName(sender: sender))
        for _ in 0..<3 {
            let current = read(path)
            if current?.transfers.contains(id) == true { return }
            // Ids whose transfer folder is gone (expired, removed by the receiver) are dropped.
            var ids = (current?.transfers ?? []).filter { FileSystem.isDirectory(FileSystem.join(inbox, $0)) }
            ids.append(id)
            if ids.count > limit { ids.removeFirst(ids.count - limit) }
            let record = TransferAnnouncement(protocolVersion: 1, sender: sender, transfers: ids)
            try TransferError.io({ try FileSystem.write(record.encoded(), to: path) })
        }
    }

    /// The announcement at `path`, nil when absent or not readable.
    static func read(_ path: String) -> TransferAnnouncement? {
        guard let bytes = try? FileSystem.readIfPresent(path, limit: 1 << 20) else { return nil }
        return TransferAnnouncement.decode(bytes)
    }
}
