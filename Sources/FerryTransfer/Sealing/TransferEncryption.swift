import Foundation

/// Whether transfers are sealed (protocol version 2) or sent in the clear (version 1).
public enum TransferEncryptionMode: String, Sendable, Codable, CaseIterable {
    /// Sealed to the recipients' X25519 keys (the default).
    case sealed
    /// Unencrypted, for debugging: a sender sends version 1, a receiver also accepts version 1.
    case none
}

/// The chunk AEAD of a sealed transfer.
public enum TransferAEAD: String, Sendable, Codable, CaseIterable {
    /// AES-256-GCM, where the CPU has AES instructions.
    case aes256GCM = "aes-256-gcm"
    /// ChaCha20-Poly1305, where it does not.
    case chaCha20Poly1305 = "chacha20-poly1305"

    /// AES-256-GCM when the CPU has AES instructions (`aes` in /proc/cpuinfo's flags or features),
    /// else ChaCha20-Poly1305, which is faster in software.
    public static var preferred: TransferAEAD {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return .aes256GCM }
        for line in info.split(separator: "\n") where line.hasPrefix("flags") || line.hasPrefix("Features") {
            return line.split(separator: " ").contains("aes") ? .aes256GCM : .chaCha20Poly1305
        }
        return .aes256GCM
    }
}

/// The content key wrapped for one recipient with HPKE (RFC 9180, base mode).
public struct TransferWrappedKey: Codable, Equatable, Sendable {
    /// The recipient's X25519 public key, base64 of 32 bytes.
    public var publicKey: String
    /// HPKE encapsulated key (`enc`), base64 of 32 bytes.
    public var enc: String
    /// The content key sealed by the HPKE context, base64 of 32 + 16 bytes.
    public var wrappedKey: String
}

/// The manifest's `encryption` object (protocol version 2). See docs/transfer-protocol.md, section 13.
public struct TransferEncryption: Codable, Equatable, Sendable {
    /// The chunk AEAD.
    public var aead: TransferAEAD
    /// The HPKE suite that wraps the content key: always `DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM`.
    public var hpke: String
    /// One wrapped content key per recipient.
    public var recipients: [TransferWrappedKey]

    static let hpkeSuite = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"
}
