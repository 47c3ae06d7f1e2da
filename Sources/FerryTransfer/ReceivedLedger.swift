import FerrySupport
/// The receiver's memory of the transfers it has published: `OUT_DIR/.ferry-received`, one transfer id
/// (32 lowercase hex characters) per line, rewritten atomically after each publication.
///
/// A transfer folder whose id is listed is a replay (a copy of an old, validly signed transfer dropped
/// back after its folder was cleaned up) and is refused, unless it is the restart of a receiver that
/// published it and died before acknowledging completion (docs/transfer-protocol.md, docs/reliability.md).
enum ReceivedLedger {
    static let fileName = ".ferry-received"

    static func path(in outputDirectory: String) -> String {
        FileSystem.join(outputDirectory, fileName)
    }

    /// Whether transfer `id` was published into `outputDirectory` before.
    static func contains(_ id: String, in outputDirectory: String) -> Bool {
        guard let raw = try? FileSystem.readIfPresent(path(in: outputDirectory), limit: 64 << 20) else { return false }
        return String(decoding: raw, as: UTF8.self).split(separator: "\n").contains { $0 == id }
    }

    /// Adds transfer `id` to the ledger of `outputDirectory`.
    static func record(_ id: String, in outputDirectory: String) throws {
        let file = path(in: outputDirectory)
        var bytes = (try TransferError.io({ try FileSystem.readIfPresent(file, limit: 64 << 20) })) ?? []
        bytes += Array((id + "\n").utf8)
        try TransferError.io({ try FileSystem.write(bytes, to: file) })
    }
}
