import Crypto
import FerrySupport
import Foundation

/// Wraps a transfer's content key for each recipient with HPKE (RFC 9180, base mode,
/// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) and unwraps it on the receiving side.
///
/// info = UTF-8 `ferry-transfer-v2 content-key`; aad = UTF-8 `ferry-transfer-v2\n<transfer id>\n<aead>\n`,
/// so a wrapped key moved to another transfer, or relabelled with another chunk AEAD, does not open.
enum KeyWrap {
    static var suite: HPKE.Ciphersuite { HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: .AES_GCM_256) }
    static let info = Data("ferry-transfer-v2 content-key".utf8)

    static func aad(transferID: String, aead: TransferAEAD) -> Data {
        Data("ferry-transfer-v2\n\(transferID)\n\(aead.rawValue)\n".utf8)
    }

    /// The `encryption` object for `recipients` (duplicates removed, order kept).
    static func wrap(contentKey: [UInt8], for recipients: [TransferRecipientKey], transferID: String,
                     aead: TransferAEAD) throws -> TransferEncryption {
        var seen = Set<TransferRecipientKey>()
        var wrapped: [TransferWrappedKey] = []
        for r in recipients where seen.insert(r).inserted {
            var sender = try HPKE.Sender(recipientKey: r.cryptoKey, ciphersuite: suite, info: info)
            let sealed = try sender.seal(contentKey, authenticating: aad(transferID: transferID, aead: aead))
            wrapped.append(TransferWrappedKey(publicKey: r.base64, enc: sender.encapsulatedKey.base64EncodedString(),
                                              wrappedKey: sealed.base64EncodedString()))
        }
        return TransferEncryption(aead: aead, hpke: TransferEncryption.hpkeSuite, recipients: wrapped)
    }

    /// The content key wrapped for the first of `keys` (the receiver's current key, then the key it had
    /// before its last rotation) that has an entry in the manifest, with the position of that key in
    /// `keys`; or the reason the receiver refuses the transfer.
    static func unwrap(_ encryption: TransferEncryption, with keys: [TransferDecryptionKey],
                       transferID: String) -> Result<(key: [UInt8], used: Int), Refusal> {
        guard encryption.hpke == TransferEncryption.hpkeSuite else {
            return .failure(Refusal(reason: "the manifest wraps its key with HPKE suite '\(encryption.hpke)'; this receiver supports \(TransferEncryption.hpkeSuite) only"))
        }
        var listed = false
        for (position, key) in keys.enumerated() {
            let mine = key.publicKey.base64
            guard let entry = encryption.recipients.first(where: { $0.publicKey == mine }) else { continue }
            listed = true
            if let content = open(entry, with: key, transferID: transferID, aead: encryption.aead) {
                return .success((content, position))
            }
        }
        guard listed else {
            let mine = keys.map(\.publicKey.base64)
            let named = mine.count > 1 ? "\(mine[0]) (nor its previous key \(mine.dropFirst().joined(separator: ", ")))" : mine.first ?? "(none)"
            return .failure(Refusal(reason: "the transfer is not sealed to this receiver's encryption key \(named) (a recipient not in the list: ask the sender to add this key with --to)"))
        }
        return .failure(Refusal(reason: "the content key wrapped for this receiver does not open (wrong key, or a key wrapped for another transfer)"))
    }

    private static func open(_ entry: TransferWrappedKey, with key: TransferDecryptionKey, transferID: String,
                             aead: TransferAEAD) -> [UInt8]? {
        guard let enc = Data(base64Encoded: entry.enc), let wrapped = Data(base64Encoded: entry.wrappedKey),
              let opened = try? HPKE.Recipient(privateKey: key.cryptoKey, ciphersuite: suite, info: info, encapsulatedKey: enc),
              case var recipient = opened,
              let content = try? recipient.open(wrapped, authenticating: aad(transferID: transferID, aead: aead)),
              content.count == ContentCipher.keySize else { return nil }
        return Array(content)
    }
}
