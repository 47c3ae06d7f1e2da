import Crypto
import Foundation
import FerrySupport

/// What provisioning did with a site's key.
public enum KeyStatus: String, Sendable, Equatable {
    /// No key existed: a new one was generated.
    case created
    /// The existing key was kept.
    case kept
    /// The existing key was replaced (`--force-new-keys`).
    case replaced
}

/// One provisioned site.
public struct ProvisionedSite: Sendable, Equatable {
    /// Site name.
    public var name: String
    /// Site role.
    public var role: SiteRole
    /// Absolute path of the workspace.
    public var workspace: String
    /// Absolute path of its inbox.
    public var inbox: String
    /// What happened to its key.
    public var keyStatus: KeyStatus
    /// Its public key (base64).
    public var publicKey: String
    /// Trusted peer keys removed because the peer left the project.
    public var removedTrust: [String]
}

/// Creates (or updates) one workspace per site of a project. Keys are never silently replaced:
/// an existing key is kept, and a key that disagrees with its workspace is an error unless `forceNewKeys`.
public struct Provisioner: Sendable {
    /// The project to provision.
    public var project: ProjectFile
    /// Default parent of the workspaces: `<outputDirectory>/<project>/<site>`.
    public var outputDirectory: String
    /// Replace every site's key pair.
    public var forceNewKeys: Bool

    /// Creates a provisioner.
    public init(project: ProjectFile, outputDirectory: String = "workspaces", forceNewKeys: Bool = false) {
        self.project = project
        self.outputDirectory = outputDirectory
        self.forceNewKeys = forceNewKeys
    }

    /// The absolute workspace path of each site, in project order.
    public func workspacePaths() -> [(site: ProjectSite, workspace: String, inbox: String)] {
        let out = Self.absolute(outputDirectory, base: FileManager.default.currentDirectoryPath)
        return project.sites.map { site in
            let workspace = site.workspace.map { Self.absolute($0, base: project.baseDirectory) }
                ?? FileSystem.join(FileSystem.join(out, project.name), site.name)
            let inbox = site.inbox.map { Self.absolute($0, base: project.baseDirectory) }
                ?? FileSystem.join(workspace, "inbox")
            return (site, workspace, inbox)
        }
    }

    /// Plans every site first (reading existing keys and site.yaml), then writes; an error in the plan
    /// leaves every workspace untouched.
    public func run(now: Date = Date()) throws(WorkspaceError) -> [ProvisionedSite] {
        let locations = workspacePaths()
        var seen: [String: String] = [:]
        for entry in locations {
            for path in [entry.workspace, entry.inbox] {
                if let other = seen[path] {
                    throw .invalidProject([ProjectDiagnostic(
                        file: project.name, line: 0, column: 0,
                        message: "sites '\(other)' and '\(entry.site.name)' resolve to the same folder \(path)",
                        hint: "give each site its own 'workspace' and 'inbox'")])
                }
                seen[path] = entry.site.name
            }
        }

        var plans: [SitePlan] = []
        for entry in locations {
            plans.append(try plan(site: entry.site, workspace: entry.workspace, inbox: entry.inbox))
        }

        try checkNoTrustedKeyIsReplaced(plans)

        let keysByName = Dictionary(uniqueKeysWithValues: plans.map { ($0.site.name, $0) })
        let stamp = Timestamp.string(now)
        var results: [ProvisionedSite] = []
        for plan in plans {
            let peers = plans.filter { other in
                other.site.name != plan.site.name && (plan.site.role == .server || other.site.role == .server)
            }
            var peerEntries: [String: PeerSite] = [:]
            for peer in peers {
                peerEntries[peer.site.name] = PeerSite(role: peer.site.role, inbox: peer.inbox,
                                                       publicKey: keysByName[peer.site.name]!.keys.publicKeyText,
                                                       encryptionKey: keysByName[peer.site.name]!.sealKey.publicKeyText)
            }
            var config = SiteConfig(name: plan.site.name, role: plan.site.role, project: project.name,
                                    created: plan.existing?.created ?? stamp, updated: stamp,
                                    publicKey: plan.keys.publicKeyText, inbox: plan.inbox,
                                    poll: project.poll.map(DurationText.format), peers: peerEntries,
                                    retention: plan.existing?.retention, resources: plan.existing?.resources,
                                    slurm: plan.existing?.slurm)
            config.liveness = plan.existing?.liveness
            config.shareGroup = plan.existing?.shareGroup
            let removed = try write(plan: plan, config: config, trusted: peers.map { ($0.site.name, $0.keys.publicKey) })
            results.append(ProvisionedSite(name: plan.site.name, role: plan.site.role, workspace: plan.workspace,
                                           inbox: plan.inbox, keyStatus: plan.status, publicKey: plan.keys.publicKeyText,
                                           removedTrust: removed))
        }
        return results
    }

    struct SitePlan {
        var site: ProjectSite
        var workspace: String
        var inbox: String
        var keys: SiteKeys
        var sealKey: SiteEncryptionKey
        var status: KeyStatus
        var existing: SiteConfig?
    }

    /// A site that gets a new key while a peer's workspace still records one for it would have its key
    /// replaced behind the peers' backs (its workspace was removed, or the share it lives on is not mounted).
    private func checkNoTrustedKeyIsReplaced(_ plans: [SitePlan]) throws(WorkspaceError) {
        guard !forceNewKeys else { return }
        for plan in plans where plan.status == .created {
            guard let peer = plans.first(where: { $0.existing?.peers[plan.site.name] != nil }) else { continue }
            throw .keyMismatch(
                site: plan.site.name, path: plan.workspace,
                reason: "the workspace has no key, but \(peer.site.name)'s site.yaml (\(peer.workspace)) trusts a key "
                    + "for it; was the workspace removed, or is the share it lives on not mounted?")
        }
    }

    private func plan(site: ProjectSite, workspace: String, inbox: String) throws(WorkspaceError) -> SitePlan {
        let fm = FileManager.default
        let siteFile = FileSystem.join(workspace, "site.yaml")
        let keyPath = FileSystem.join(workspace, "keys/site.key")
        let pubPath = FileSystem.join(workspace, "keys/site.pub")
        let existing: SiteConfig? = fm.fileExists(atPath: siteFile) ? try SiteConfig.load(path: siteFile) : nil
        if let existing, existing.name != site.name {
            throw .keyMismatch(site: site.name, path: siteFile,
                               reason: "this workspace belongs to site '\(existing.name)'; give '\(site.name)' its own folder")
        }
        if let existing, existing.project != project.name {
            throw .keyMismatch(site: site.name, path: siteFile,
                               reason: "this workspace belongs to project '\(existing.project)', not '\(project.name)'")
        }
        if let existing, existing.share != nil || existing.federation != nil {
            throw .federatedWorkspace(site: site.name, path: siteFile)
        }
        // The X25519 key for sealed transfers: kept when there, made when missing (workspaces provisioned
        // before sealed transfers get theirs now), replaced with the signing key by --force-new-keys.
        let sealKey: SiteEncryptionKey = try !forceNewKeys && fm.fileExists(atPath: SiteEncryptionKey.privateKeyPath(workspace: workspace))
            ? SiteEncryptionKey.load(workspace: workspace) : .generate()
        let hasKey = fm.fileExists(atPath: keyPath)
        let hasRecord = fm.fileExists(atPath: pubPath) || existing != nil
        if forceNewKeys {
            return SitePlan(site: site, workspace: workspace, inbox: inbox, keys: .generate(), sealKey: sealKey,
                            status: hasKey || hasRecord ? .replaced : .created, existing: existing)
        }
        guard hasKey else {
            if hasRecord {
                throw .keyMismatch(site: site.name, path: keyPath,
                                   reason: "the private key is missing but the workspace records a public key")
            }
            return SitePlan(site: site, workspace: workspace, inbox: inbox, keys: .generate(), sealKey: sealKey,
                            status: .created, existing: existing)
        }
        let keys = try SiteKeys.load(privateKeyPath: keyPath)
        if fm.fileExists(atPath: pubPath) {
            let pub = try SiteKeys.loadPublicKey(path: pubPath)
            if pub.rawRepresentation != keys.publicKey.rawRepresentation {
                throw .keyMismatch(site: site.name, path: pubPath, reason: "keys/site.pub does not match keys/site.key")
            }
        }
        if let existing, existing.publicKey != keys.publicKeyText {
            throw .keyMismatch(site: site.name, path: keyPath,
                               reason: "keys/site.key does not match the public_key recorded in site.yaml")
        }
        return SitePlan(site: site, workspace: workspace, inbox: inbox, keys: keys, sealKey: sealKey, status: .kept, existing: existing)
    }

    private func write(plan: SitePlan, config: SiteConfig,
                       trusted: [(String, Curve25519.Signing.PublicKey)]) throws(WorkspaceError) -> [String] {
        let fm = FileManager.default
        let ws = plan.workspace
        func mkdir(_ path: String, _ mode: Int = 0o755) throws(WorkspaceError) {
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
            } catch {
                throw .io(path: path, operation: "create the folder", reason: "\(error.localizedDescription)")
            }
        }
        try mkdir(ws)
        try mkdir(FileSystem.join(ws, "keys"), 0o700)
        for sub in ["trusted", "jobs", "logs"] { try mkdir(FileSystem.join(ws, sub)) }
        try mkdir(plan.inbox)
        if plan.status != .kept {
            try plan.keys.write(privateKeyPath: FileSystem.join(ws, "keys/site.key"),
                                publicKeyPath: FileSystem.join(ws, "keys/site.pub"))
        } else if !fm.fileExists(atPath: FileSystem.join(ws, "keys/site.pub")) {
            try SiteKeys.writePublicKey(plan.keys.publicKey, to: FileSystem.join(ws, "keys/site.pub"))
        }
        try plan.sealKey.write(workspace: ws)
        let trustedDir = FileSystem.join(ws, "trusted")
        for (name, key) in trusted {
            try SiteKeys.writePublicKey(key, to: FileSystem.join(trustedDir, name + ".pub"))
        }
        var removed: [String] = []
        let names = Set(trusted.map(\.0))
        for file in ((try? fm.contentsOfDirectory(atPath: trustedDir)) ?? []).sorted()
        where file.hasSuffix(".pub") && !names.contains(String(file.dropLast(4))) {
            try? fm.removeItem(atPath: FileSystem.join(trustedDir, file))
            removed.append(String(file.dropLast(4)))
        }
        try config.write(to: FileSystem.join(ws, "site.yaml"))
        return removed
    }

    static func absolute(_ path: String, base: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: base).appendingPathComponent(path)
        var result = url.standardizedFileURL.path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
