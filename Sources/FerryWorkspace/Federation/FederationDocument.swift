import Crypto
import Foundation
import FerrySupport

/// The federation file (docs/deployment.md, "Federation file"): the server's signed list of the
/// federation's members and revoked keys. The server keeps it as `federation.yaml` in its workspace and
/// publishes a copy on the share; every add or remove rewrites both with the next `serial`. A client
/// checks each copy it reads against the server key it pinned (`ferry site join`) and refuses one that is
/// older than the one it accepted last.
public struct FederationDocument: Codable, Sendable, Equatable {
    /// The format tag, `ferry-federation-v1`.
    public static let format = "ferry-federation-v1"
    static let domain = "ferry-federation-v1"

    /// A member site: its role, key and inbox (share-relative or absolute).
    public struct Member: Codable, Sendable, Equatable {
        /// The site's role.
        public var role: SiteRole
        /// Its Ed25519 public key (base64 of the 32 raw bytes).
        public var publicKey: String
        /// Its inbox: relative to the share root, or absolute.
        public var inbox: String
        /// When it joined (first added, or its key last replaced).
        public var added: String
        /// Its X25519 key for sealed transfers (base64 of 32 bytes), from its card.
        public var encryptionKey: String?

        /// Creates a member entry.
        public init(role: SiteRole, publicKey: String, inbox: String, added: String, encryptionKey: String? = nil) {
            self.encryptionKey = encryptionKey
            self.role = role
            self.publicKey = publicKey
            self.inbox = inbox
            self.added = added
        }

        enum CodingKeys: String, CodingKey {
            case role, inbox, added
            case publicKey = "public_key"
            case encryptionKey = "encryption_key"
        }
    }

    /// A revoked key: the site it belonged to and when it was revoked.
    public struct Revoked: Codable, Sendable, Equatable {
        /// The site the key belonged to.
        public var name: String
        /// The revoked key (base64).
        public var publicKey: String
        /// When it was revoked.
        public var revoked: String

        /// Creates a revocation entry.
        public init(name: String, publicKey: String, revoked: String) {
            self.name = name
            self.publicKey = publicKey
            self.revoked = revoked
        }

        enum CodingKeys: String, CodingKey {
            case name, revoked
            case publicKey = "public_key"
        }
    }

    /// The federation's (project's) name.
    public var project: String
    /// Increases by one with every rewrite.
    public var serial: Int
    /// When this serial was written.
    public var issued: String
    /// The server's name.
    public var server: String
    /// Every member, the server included, by name.
    public var sites: [String: Member]
    /// Revoked keys, oldest first.
    public var revoked: [Revoked]

    /// Creates a federation document.
    public init(project: String, serial: Int, issued: String, server: String, sites: [String: Member], revoked: [Revoked]) {
        self.project = project
        self.serial = serial
        self.issued = issued
        self.server = server
        self.sites = sites
        self.revoked = revoked
    }

    /// The client members' names, sorted.
    public var clientNames: [String] { sites.filter { $0.value.role == .client }.map(\.key).sorted() }

    /// Names of sites whose key was revoked and that are not members again (with a new key).
    public var removedNames: Set<String> { Set(revoked.map(\.name)).subtracting(sites.keys) }

    /// Whether `key` (base64) was revoked.
    public func isRevoked(key: String) -> Bool { revoked.contains { $0.publicKey == key } }

    /// The signed text, signed with the server's `keys`.
    public func signedText(keys: SiteKeys) throws(FederationError) -> String {
        var lines = [
            "# ferry federation file (docs/deployment.md), written by the server: do not edit, the",
            "# signature would no longer verify. `ferry federation add|remove` publish the next serial.",
            "format: \(Self.format)",
            "project: \(SignedText.quoted(project))",
            "serial: \(serial)",
            "issued: \(SignedText.quoted(issued))",
            "server: \(SignedText.quoted(server))",
            sites.isEmpty ? "sites: {}" : "sites:",
        ]
        for name in sites.keys.sorted() {
            let m = sites[name]!
            lines += ["  \(SignedText.quoted(name)):", "    role: \(m.role.rawValue)",
                      "    public_key: \(SignedText.quoted(m.publicKey))", "    inbox: \(SignedText.quoted(m.inbox))",
                      "    added: \(SignedText.quoted(m.added))"]
            if let seal = m.encryptionKey { lines.append("    encryption_key: \(SignedText.quoted(seal))") }
        }
        lines.append(revoked.isEmpty ? "revoked: []" : "revoked:")
        for r in revoked {
            lines += ["  - name: \(SignedText.quoted(r.name))", "    public_key: \(SignedText.quoted(r.publicKey))",
                      "    revoked: \(SignedText.quoted(r.revoked))"]
        }
        return try SignedText.sign(body: lines.joined(separator: "\n") + "\n", domain: Self.domain, keys: keys)
    }

    /// Writes the signed file atomically.
    public func write(to path: String, keys: SiteKeys) throws(FederationError) {
        try SignedText.write(try signedText(keys: keys), to: path, kind: "federation file")
    }

    /// Reads a federation file and checks its signature by `serverKey`, returning the document and its bytes.
    public static func load(path: String, serverKey: Curve25519.Signing.PublicKey,
                            project: String? = nil) throws(FederationError) -> (document: FederationDocument, bytes: [UInt8]) {
        let bytes = try SignedText.read(path, kind: "federation file")
        let document = try SignedText.decode(FederationDocument.self, from: bytes, path: path, format: format,
                                             kind: "federation file", undecodableIsTampered: true)
        guard let (body, signature) = SignedText.split(bytes) else {
            throw .tampered(path: path, kind: "federation file", reason: "no valid `signature:` last line")
        }
        guard SignedText.verify(body: body, signature: signature, domain: domain, key: serverKey) else {
            if let project, project != document.project || document.sites[document.server]?.publicKey != SiteKeys.encode(serverKey) {
                throw .wrongSigner(path: path, project: project)
            }
            throw .tampered(path: path, kind: "federation file", reason: "not signed by the server key \(SignedText.fingerprint(SiteKeys.encode(serverKey)))")
        }
        if let project, project != document.project {
            throw .unreadable(path: path, reason: "the file is for federation '\(document.project)', not '\(project)'")
        }
        return (document, bytes)
    }
}
