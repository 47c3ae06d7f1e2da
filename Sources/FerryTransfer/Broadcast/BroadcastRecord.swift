import Crypto
import FerrySupport
import Foundation

/// `INBOX/<transfer-id>/broadcast`: tells one recipient that the chunks of this transfer are in a
/// shared area, and which (docs/transfer-protocol.md, section 14). Written by the sender before the
/// inbox's `manifest.json`, never changed.
struct BroadcastRecord: Codable, Equatable, JSONRecord {
    /// The transfer; must equal the inbox folder's name and the manifest's.
    var transferId: String
    /// The area relative to the inbox folder: `../` repeated, then `.ferry-broadcast/<transferId>`.
    var area: String
    /// SHA-256 of the exact manifest bytes (hex), the same in the inbox and in the area.
    var manifestSHA256: String
    /// The X25519 public key (base64) of the recipient this record is for.
    var recipient: String
    /// Ed25519 signature (base64) of ``signedMessage`` with the manifest's signer key, when signed.
    var signature: String?

    /// `ferry-broadcast-v1\n<transferId>\n<area>\n<manifestSHA256>\n<recipient>\n`, UTF-8.
    var signedMessage: [UInt8] {
        Array("ferry-broadcast-v1\n\(transferId)\n\(area)\n\(manifestSHA256)\n\(recipient)\n".utf8)
    }
}

/// Where a receiver reads the chunks of a transfer from.
enum ChunkSource: Equatable {
    /// Its own transfer folder (no broadcast record).
    case inbox
    /// A shared area whose record and manifest were checked.
    case shared(String)
    /// The record names an area whose manifest is not there (yet): try again on a later pass.
    case notYet
}

extension BroadcastRecord {
    /// Reads and checks the broadcast record of transfer folder `dir` (in `inbox`) against the
    /// manifest read from that folder. Throws a ``Refusal`` for a record or an area that does not
    /// match: another transfer id, an area path that is not `../…/.ferry-broadcast/<id>`, another
    /// manifest, a record for another recipient or one not in the manifest's list, a missing or false
    /// signature. `decryptionKeys`: the receiver's current key first, then its previous one.
    static func chunkSource(inbox: String, dir: String, id: String, manifestBytes: [UInt8], manifest: TransferManifest,
                            decryptionKeys: [TransferDecryptionKey], trustedKeys: [TransferPublicKey]) throws -> ChunkSource {
        let raw: [UInt8]?
        do { raw = try TransferError.io({ try FileSystem.readIfPresent(FileSystem.join(dir, BroadcastLayout.record), limit: 64 << 10) }) } catch {
            throw Refusal(reason: "the broadcast record cannot be read: \(error)")
        }
        guard let raw else { return .inbox }
        guard let record = BroadcastRecord.decode(raw) else {
            throw Refusal(reason: "the broadcast record is not valid JSON of the expected fields")
        }
        guard record.transferId == id, manifest.transferId == id else {
            throw Refusal(reason: "the broadcast record names transfer \(record.transferId) but sits in folder \(id) (wrong id)")
        }
        let digest = Hex.encode(Array(SHA256.hash(data: manifestBytes)))
        guard record.manifestSHA256 == digest else {
            throw Refusal(reason: "the broadcast record was made for another manifest (manifest SHA-256 \(record.manifestSHA256), the inbox's is \(digest))")
        }
        if let keyText = manifest.signerPublicKey {
            guard TransferPublicKey.verify(signature: record.signature, by: keyText, for: record.signedMessage) else {
                throw Refusal(reason: "the signature of the broadcast record is missing or invalid")
            }
        } else if !trustedKeys.isEmpty {
            throw Refusal(reason: "the broadcast record is not signed and this receiver only accepts signed transfers")
        }
        guard manifest.encryption != nil else {
            throw Refusal(reason: "a broadcast must be sealed (protocol version 2), this one is not")
        }
        guard let current = decryptionKeys.first?.publicKey.base64 else {
            throw Refusal(reason: "the transfer is sealed but this receiver has no encryption key; give it with --key WORKSPACE_OR_KEY")
        }
        // The current key, or the one `ferry site rotate-key` kept (a broadcast sealed before the rotation).
        guard let own = decryptionKeys.map(\.publicKey.base64).first(where: { $0 == record.recipient }) else {
            throw Refusal(reason: "the broadcast record is addressed to recipient key \(record.recipient), not to this receiver's \(current)")
        }
        guard manifest.encryption?.recipients.contains(where: { $0.publicKey == own }) == true else {
            throw Refusal(reason: "this receiver is not in the broadcast's recipient list (not sealed to this receiver)")
        }
        guard BroadcastLayout.isValidRelative(record.area, id: id) else {
            throw Refusal(reason: "the broadcast record's area '\(record.area)' is not of the form ../…/\(BroadcastLayout.folder)/\(id)")
        }
        let area = FileSystem.join(inbox, record.area)
        let areaManifest: [UInt8]?
        do { areaManifest = try TransferError.io({ try FileSystem.readIfPresent(FileSystem.join(area, TransferLayout.manifest), limit: 1 << 20) }) } catch {
            throw Refusal(reason: "the shared area's manifest cannot be read: \(error)")
        }
        guard let areaManifest else { return .notYet }
        guard areaManifest == manifestBytes else {
            throw Refusal(reason: "the shared area \(area) holds another manifest than the inbox's (not this transfer's area, or tampered)")
        }
        return .shared(area)
    }
}
