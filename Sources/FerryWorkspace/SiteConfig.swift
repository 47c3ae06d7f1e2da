import Foundation
import FerrySupport
import Yams

/// A peer site as recorded in `site.yaml`.
public struct PeerSite: Codable, Sendable, Equatable {
    /// The peer's role.
    public var role: SiteRole
    /// The peer's inbox (where this site delivers transfers to it): absolute, or relative to this site's
    /// `share` (docs/workspaces.md, "Share-relative paths").
    public var inbox: String
    /// The peer's Ed25519 public key, base64 of the 32 raw bytes.
    public var publicKey: String
    /// The peer's X25519 key for sealed transfers (base64 of 32 bytes); absent for peers whose card
    /// predates sealed transfers.
    public var encryptionKey: String?

    /// Creates a peer entry.
    public init(role: SiteRole, inbox: String, publicKey: String, encryptionKey: String? = nil) {
        self.encryptionKey = encryptionKey
        self.role = role
        self.inbox = inbox
        self.publicKey = publicKey
    }

    enum CodingKeys: String, CodingKey {
        case role, inbox
        case publicKey = "public_key"
        case encryptionKey = "encryption_key"
    }
}

/// The contents of a workspace's `site.yaml` (docs/workspaces.md).
public struct SiteConfig: Codable, Sendable, Equatable {
    /// The format version (1).
    public var version: Int
    /// This site's name.
    public var name: String
    /// This site's role.
    public var role: SiteRole
    /// The project the site belongs to.
    public var project: String
    /// When the workspace was first provisioned (ISO 8601, UTC).
    public var created: String
    /// When provisioning last rewrote this file (ISO 8601, UTC).
    public var updated: String
    /// This site's public key (base64), the same as `keys/site.pub`.
    public var publicKey: String
    /// This site's own inbox: absolute, or relative to `share`.
    public var inbox: String
    /// Where this site mounts the federation's share (absolute); relative paths in this file are under it.
    public var share: String?
    /// The federation file (`ferry site init`/`join`): absolute, or relative to `share`.
    public var federation: String?
    /// The share group (broadcast once): the folder that holds the inboxes of the sites that share one
    /// copy of a broadcast, absolute or relative to `share`; `off` for none. Absent: the share root when
    /// `share` is set, else none (docs/workspaces.md, "Share groups"). Set by the operator; kept by
    /// provisioning.
    public var shareGroup: String? = nil
    /// Default poll interval text (e.g. `1s`), if the project set one.
    public var poll: String?
    /// The sites this one talks to, by name: a client lists the server, the server lists every client.
    public var peers: [String: PeerSite]
    /// How long the watcher keeps the files of a finished job (e.g. `7d`) before removing them; nil
    /// keeps them until `ferry delete`. Set by the operator; provisioning keeps it.
    public var retention: String?
    /// Server: how long a silent site is waited for (`liveness: {grace: 5m}`); set by the operator,
    /// provisioning keeps it.
    public var liveness: LivenessConfig?
    /// What this site has for tasks (GPUs, memory); set by the operator, kept by provisioning.
    public var resources: SiteResources?
    /// Defaults and limits of Slurm tasks; set by the operator, kept by provisioning.
    public var slurm: SiteSlurm?

    /// Creates a configuration.
    public init(version: Int = 1, name: String, role: SiteRole, project: String, created: String, updated: String,
                publicKey: String, inbox: String, poll: String?, peers: [String: PeerSite], retention: String? = nil,
                resources: SiteResources? = nil, slurm: SiteSlurm? = nil) {
        self.version = version
        self.name = name
        self.role = role
        self.project = project
        self.created = created
        self.updated = updated
        self.publicKey = publicKey
        self.inbox = inbox
        self.poll = poll
        self.peers = peers
        self.retention = retention
        self.resources = resources
        self.slurm = slurm
    }

    enum CodingKeys: String, CodingKey {
        case version, name, role, project, created, updated, inbox, poll, peers, retention, share, federation, liveness, resources, slurm
        case publicKey = "public_key"
        case shareGroup = "share_group"
    }

    /// Reads `site.yaml`.
    public static func load(path: String) throws(WorkspaceError) -> SiteConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .notAWorkspace(path: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                 reason: "no site.yaml")
        }
        guard data.count <= ProjectFile.maxFileBytes, let text = String(data: data, encoding: .utf8) else {
            throw .invalidSiteFile(path: path, reason: "not a UTF-8 text file of at most 1 MiB")
        }
        do {
            return try YAMLDecoder().decode(SiteConfig.self, from: text)
        } catch {
            throw .invalidSiteFile(path: path, reason: "cannot decode site.yaml: \(error)")
        }
    }

    /// The YAML text: keys in a fixed order, peers sorted by name, a comment header.
    public func yamlText() -> String {
        func scalar(_ s: String) -> Node { Node(s, Tag(.str), .doubleQuoted) }
        func plain(_ s: String) -> Node { Node(s) }
        var pairs: [(Node, Node)] = [
            (plain("version"), Node(String(version), Tag(.int))),
            (plain("name"), scalar(name)),
            (plain("role"), plain(role.rawValue)),
            (plain("project"), scalar(project)),
            (plain("created"), scalar(created)),
            (plain("updated"), scalar(updated)),
            (plain("public_key"), scalar(publicKey)),
            (plain("inbox"), scalar(inbox)),
        ]
        if let share { pairs.append((plain("share"), scalar(share))) }
        if let federation { pairs.append((plain("federation"), scalar(federation))) }
        if let shareGroup { pairs.append((plain("share_group"), scalar(shareGroup))) }
        if let poll { pairs.append((plain("poll"), scalar(poll))) }
        if let retention { pairs.append((plain("retention"), scalar(retention))) }
        if let grace = liveness?.grace { pairs.append((plain("liveness"), Node([(plain("grace"), scalar(grace))]))) }
        for (key, value) in [("resources", resources.flatMap(Self.node)), ("slurm", slurm.flatMap(Self.node))] {
            if let value { pairs.append((plain(key), value)) }
        }
        let peerPairs: [(Node, Node)] = peers.keys.sorted().map { key in
            let peer = peers[key]!
            var fields: [(Node, Node)] = [
                (plain("role"), plain(peer.role.rawValue)),
                (plain("inbox"), scalar(peer.inbox)),
                (plain("public_key"), scalar(peer.publicKey)),
            ]
            if let seal = peer.encryptionKey { fields.append((plain("encryption_key"), scalar(seal))) }
            return (scalar(key), Node(fields))
        }
        pairs.append((plain("peers"), Node(peerPairs)))
        let body = (try? Yams.serialize(node: Node(pairs), sortKeys: false)) ?? ""
        let writer = share == nil && federation == nil
            ? "written by `ferry provision` (docs/workspaces.md).\n# Re-run provisioning rather than editing by hand"
            : "written by `ferry site` and `ferry federation` (docs/deployment.md).\n# Change it with those commands rather than by hand"
        return "# ferry site workspace, \(writer); keys/ and trusted/ must agree with it.\n"
            + body
    }

    /// `value` as a YAML node (nil keys left out).
    private static func node<T: Encodable>(_ value: T) -> Node? {
        guard let text = try? YAMLEncoder().encode(value) else { return nil }
        return try? Yams.compose(yaml: text)
    }

    /// Writes `site.yaml` atomically.
    public func write(to path: String) throws(WorkspaceError) {
        do {
            try AtomicFile.write(string: yamlText(), to: path)
        } catch {
            throw .io(path: path, operation: "write site.yaml", reason: "\(error)")
        }
    }
}
