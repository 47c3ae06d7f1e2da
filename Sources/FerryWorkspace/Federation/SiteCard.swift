import Crypto
import Foundation
import FerrySupport

/// A site's public card (docs/deployment.md, "Site card"): who the site is and where it receives
/// transfers, signed with the site's own key so that a card changed on its way is refused. Written by
/// `ferry site init` and `ferry site rotate-key`; read by `ferry federation add` (client cards) and
/// `ferry site join` (the server's card). It holds no secret.
public struct SiteCard: Codable, Sendable, Equatable {
    /// The format tag, `ferry-site-card-v1`.
    public static let format = "ferry-site-card-v1"
    /// The signature domain of cards.
    static let domain = "ferry-site-card-v1"
    /// The signature domain of a rotation endorsement.
    static let rotationDomain = "ferry-key-rotation-v1"

    /// The site's name.
    public var name: String
    /// Its role.
    public var role: SiteRole
    /// Its Ed25519 public key (base64 of the 32 raw bytes).
    public var publicKey: String
    /// Its inbox: relative to the share root, or absolute.
    public var inbox: String
    /// Server cards: the federation's name.
    public var project: String?
    /// Server cards: where the federation file is published, relative to the share root (or absolute).
    public var federationFile: String?
    /// When the card was written.
    public var created: String
    /// After `ferry site rotate-key`: the key this one replaces, and its endorsement of the new key.
    public var previousKey: String?
    /// Base64 Ed25519 signature by `previousKey` of `ferry-key-rotation-v1:<name>:<publicKey>`.
    public var endorsement: String?
    /// The site's X25519 key for sealed transfers (base64 of 32 bytes); absent on cards made before them.
    public var encryptionKey: String?

    enum CodingKeys: String, CodingKey {
        case name, role, inbox, project, created, endorsement
        case publicKey = "public_key"
        case federationFile = "federation_file"
        case previousKey = "previous_key"
        case encryptionKey = "encryption_key"
    }

    /// Creates a card.
    public init(name: String, role: SiteRole, publicKey: String, inbox: String, project: String? = nil,
                federationFile: String? = nil, created: String = Timestamp.now(),
                previousKey: String? = nil, endorsement: String? = nil, encryptionKey: String? = nil) {
        self.encryptionKey = encryptionKey
        self.name = name
        self.role = role
        self.publicKey = publicKey
        self.inbox = inbox
        self.project = project
        self.federationFile = federationFile
        self.created = created
        self.previousKey = previousKey
        self.endorsement = endorsement
    }

    /// The key's fingerprint (`SHA256:` and 16 hex digits), for operators to compare by phone.
    public var fingerprint: String { Self.fingerprint(of: publicKey) }

    /// The fingerprint of a base64 public key.
    public static func fingerprint(of publicKey: String) -> String { SignedText.fingerprint(publicKey) }

    /// The signed card text, signed with `keys` (the site's own key, whose public key the card holds).
    public func signedText(keys: SiteKeys) throws(FederationError) -> String {
        var lines = [
            "# ferry site card (docs/deployment.md). Public: send it to the federation's coordinator.",
            "# Signed with the site's own key: any change makes it invalid. Compare the fingerprint",
            "# \(fingerprint) with the site's operator before trusting it.",
            "format: \(Self.format)",
            "name: \(SignedText.quoted(name))",
            "role: \(role.rawValue)",
            "public_key: \(SignedText.quoted(publicKey))",
            "inbox: \(SignedText.quoted(inbox))",
        ]
        if let encryptionKey { lines.append("encryption_key: \(SignedText.quoted(encryptionKey))") }
        if let project { lines.append("project: \(SignedText.quoted(project))") }
        if let federationFile { lines.append("federation_file: \(SignedText.quoted(federationFile))") }
        lines.append("created: \(SignedText.quoted(created))")
        if let previousKey { lines.append("previous_key: \(SignedText.quoted(previousKey))") }
        if let endorsement { lines.append("endorsement: \(SignedText.quoted(endorsement))") }
        return try SignedText.sign(body: lines.joined(separator: "\n") + "\n", domain: Self.domain, keys: keys)
    }

    /// Writes the signed card atomically.
    public func write(to path: String, keys: SiteKeys) throws(FederationError) {
        try SignedText.write(try signedText(keys: keys), to: path, kind: "site card")
    }

    /// Reads a card and checks it: its format, names, and its signature by the key it holds; a rotated
    /// card's endorsement by its previous key too.
    public static func load(path: String) throws(FederationError) -> SiteCard {
        let bytes = try SignedText.read(path, kind: "site card")
        let card = try SignedText.decode(SiteCard.self, from: bytes, path: path, format: format, kind: "site card")
        guard NameRules.isValidSiteName(card.name) else {
            throw .unreadable(path: path, reason: "invalid site name '\(card.name)'")
        }
        guard let key = SiteKeys.decodePublicKey(card.publicKey) else {
            throw .unreadable(path: path, reason: "public_key is not the base64 of a 32-byte Ed25519 key")
        }
        if let encryptionKey = card.encryptionKey, !SiteEncryptionKey.isValidPublicKey(encryptionKey) {
            throw .unreadable(path: path, reason: "encryption_key is not the base64 of a 32-byte X25519 key")
        }
        guard let (body, signature) = SignedText.split(bytes) else {
            throw .tampered(path: path, kind: "site card", reason: "no valid `signature:` last line")
        }
        guard SignedText.verify(body: body, signature: signature, domain: domain, key: key) else {
            throw .tampered(path: path, kind: "site card", reason: "not signed by the key it holds")
        }
        if let previous = card.previousKey {
            guard let old = SiteKeys.decodePublicKey(previous), let endorsement = card.endorsement,
                  let sig = Data(base64Encoded: endorsement),
                  old.isValidSignature(sig, for: rotationMessage(name: card.name, publicKey: card.publicKey)) else {
                throw .tampered(path: path, kind: "site card", reason: "the endorsement by previous_key does not verify")
            }
        }
        return card
    }

    /// The message a site's old key signs to endorse its new key.
    static func rotationMessage(name: String, publicKey: String) -> Data {
        Data("\(rotationDomain):\(name):\(publicKey)".utf8)
    }

    /// Whether this card is a rotation endorsed by `key` (base64): the holder of `key` vouches for the new key.
    public func isEndorsed(by key: String) -> Bool { previousKey == key && endorsement != nil }
}
