import Crypto
import Foundation
import FerrySupport

/// An opened site workspace: identity, keys, trusted peers and the folders the watcher works in.
///
/// Layout (docs/workspaces.md): `site.yaml`, `keys/site.key`, `keys/site.pub`, `trusted/<peer>.pub`,
/// `inbox/`, `jobs/`, `logs/`.
public struct SiteWorkspace: @unchecked Sendable {
    /// Absolute path of the workspace folder.
    public let directory: String
    /// The parsed `site.yaml`.
    public let config: SiteConfig
    /// This site's key pair.
    public let keys: SiteKeys
    /// Public keys this site accepts signatures from, by peer name (from `trusted/<peer>.pub`).
    public let trustedKeys: [String: Curve25519.Signing.PublicKey]

    /// This site's name.
    public var name: String { config.name }
    /// This site's role.
    public var role: SiteRole { config.role }
    /// The project's name.
    public var project: String { config.project }
    /// The poll interval provisioned for the project, if any.
    public var poll: Duration? { config.poll.flatMap { try? DurationText.parse($0) } }

    /// `retention:` of site.yaml: how long finished jobs' files stay; nil when unset.
    /// - Throws: ``WorkspaceError/invalidSiteFile(path:reason:)`` when it is not a duration.
    public func retention() throws(WorkspaceError) -> Duration? {
        guard let text = config.retention else { return nil }
        guard let value = try? DurationText.parse(text), value > .zero else {
            throw .invalidSiteFile(path: FileSystem.join(directory, "site.yaml"),
                                   reason: "retention '\(text)' is not a positive duration: use e.g. 7d, 36h or 90m, or remove the key to keep finished jobs")
        }
        return value
    }
    /// The peers (name → role, inbox, key), their inboxes resolved against `share:`.
    public var peers: [String: PeerSite] {
        config.peers.mapValues {
            PeerSite(role: $0.role, inbox: SharePath.resolve($0.inbox, share: config.share), publicKey: $0.publicKey,
                     encryptionKey: $0.encryptionKey)
        }
    }
    /// Where this site mounts the share (`share:` of site.yaml), if it says.
    public var shareDirectory: String? { config.share }
    /// For a client: the server peer's name and entry.
    public var server: (name: String, site: PeerSite)? {
        peers.first { $0.value.role == .server }.map { (name: $0.key, site: $0.value) }
    }
    /// For the server: the client site names, sorted.
    public var clientNames: [String] { config.peers.filter { $0.value.role == .client }.map(\.key).sorted() }

    /// `site.yaml`.
    public var siteFile: String { FileSystem.join(directory, "site.yaml") }
    /// `keys/`.
    public var keysDirectory: String { FileSystem.join(directory, "keys") }
    /// `keys/site.key`.
    public var privateKeyPath: String { FileSystem.join(directory, "keys/site.key") }
    /// `keys/site.pub`.
    public var publicKeyPath: String { FileSystem.join(directory, "keys/site.pub") }
    /// `trusted/`.
    public var trustedDirectory: String { FileSystem.join(directory, "trusted") }
    /// This site's inbox (absolute; may live outside the workspace, on a share).
    public var inboxDirectory: String { SharePath.resolve(config.inbox, share: config.share) }
    /// The federation file, absolute (nil for workspaces made by `ferry provision`).
    public var federationFile: String? { config.federation.map { SharePath.resolve($0, share: config.share) } }
    /// The site's copy of the federation file: the server's master, or the last one a client accepted.
    public var acceptedFederationFile: String { FileSystem.join(directory, "federation.yaml") }
    /// `jobs/`: the job store on the server, deployed jobs on a client.
    public var jobsDirectory: String { FileSystem.join(directory, "jobs") }
    /// `logs/`: the watcher's own logs.
    public var logsDirectory: String { FileSystem.join(directory, "logs") }

    /// The inbox path of a peer, if it is one.
    public func inbox(ofPeer name: String) -> String? { config.peers[name].map { SharePath.resolve($0.inbox, share: config.share) } }

    /// Opens the workspace at `path` (the folder holding `site.yaml`): reads the identity, loads the key pair,
    /// checks it against `site.yaml` and loads the trusted keys.
    public static func open(_ path: String) throws(WorkspaceError) -> SiteWorkspace {
        let directory = URL(fileURLWithPath: path).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .notAWorkspace(path: path, reason: "no such folder")
        }
        let config = try SiteConfig.load(path: FileSystem.join(directory, "site.yaml"))
        let relative = [config.inbox, config.federation].compactMap { $0 } + config.peers.values.map(\.inbox)
        if config.share == nil, let path = relative.first(where: { !$0.hasPrefix("/") }) {
            throw .invalidSiteFile(path: FileSystem.join(directory, "site.yaml"),
                                   reason: "the path '\(path)' is relative to the share, but there is no `share:` key; add `share: /mount/point/of/the/share`")
        }
        let keyPath = FileSystem.join(directory, "keys/site.key")
        guard FileManager.default.fileExists(atPath: keyPath) else {
            throw .keyMismatch(site: config.name, path: keyPath, reason: "the private key is missing")
        }
        let keys = try SiteKeys.load(privateKeyPath: keyPath)
        if keys.publicKeyText != config.publicKey {
            throw .keyMismatch(site: config.name, path: keyPath,
                               reason: "the private key does not match site.yaml's public_key")
        }
        let trusted = try loadTrusted(FileSystem.join(directory, "trusted"))
        return SiteWorkspace(directory: directory, config: config, keys: keys, trustedKeys: trusted)
    }

    private static func loadTrusted(_ dir: String) throws(WorkspaceError) -> [String: Curve25519.Signing.PublicKey] {
        var result: [String: Curve25519.Signing.PublicKey] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for file in names where file.hasSuffix(".pub") && !file.hasPrefix(".") {
            result[String(file.dropLast(4))] = try SiteKeys.loadPublicKey(path: FileSystem.join(dir, file))
        }
        return result
    }

    /// Site workspaces (folders holding `site.yaml`) at `root` itself, or one or two levels below it
    /// (`workspaces/<project>/<site>/`), sorted by path. Unreadable folders are skipped.
    public static func discover(under root: String) -> [String] {
        let fm = FileManager.default
        let base = URL(fileURLWithPath: root).standardizedFileURL.path
        if fm.fileExists(atPath: FileSystem.join(base, "site.yaml")) { return [base] }
        var found: [String] = []
        func children(_ dir: String) -> [String] {
            ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.sorted().map { FileSystem.join(dir, $0) }
        }
        for child in children(base) {
            if fm.fileExists(atPath: FileSystem.join(child, "site.yaml")) { found.append(child); continue }
            for grandchild in children(child) where fm.fileExists(atPath: FileSystem.join(grandchild, "site.yaml")) {
                found.append(grandchild)
            }
        }
        return found
    }

    /// The server workspaces among ``discover(under:)``.
    public static func discoverServers(under root: String) -> [String] {
        discover(under: root).filter { (try? SiteConfig.load(path: FileSystem.join($0, "site.yaml")))?.role == .server }
    }
}
