import Foundation
import FerrySupport

/// `ferry site init`: a site's workspace made on its own host, with its own key pair, and its public
/// card. The private key never leaves `keys/` of this workspace.
public struct SiteSetup: Sendable {
    /// What `ferry site init` and `ferry site rotate-key` report.
    public struct Result: Sendable {
        /// The workspace folder (absolute).
        public var workspace: String
        /// The card written (absolute), inside the workspace.
        public var card: String
        /// The site's key fingerprint.
        public var fingerprint: String
        /// The inbox as recorded (share-relative or absolute) and as this host sees it.
        public var inbox: String
        /// The inbox on this host (absolute).
        public var inboxPath: String
        /// Server only: the federation file as this host sees it.
        public var federationFile: String?
    }

    /// The file name of a workspace's card.
    public static let cardFileName = "site-card.yaml"

    /// The new workspace folder.
    public var workspace: String
    /// The site's name.
    public var name: String
    /// Its role.
    public var role: SiteRole
    /// Where this host mounts the share (nil: no share, paths are absolute).
    public var share: String?
    /// The inbox: relative to the share, or absolute (nil: the default).
    public var inbox: String?
    /// Server only: the federation's name (nil: `federation`).
    public var project: String?

    /// Prepares a set-up; nothing is written until ``run(now:)``.
    public init(workspace: String, name: String, role: SiteRole, share: String?, inbox: String?, project: String?) {
        self.workspace = workspace
        self.name = name
        self.role = role
        self.share = share
        self.inbox = inbox
        self.project = project
    }

    /// Checks everything, then creates the workspace, its keys, its inbox, its card and (server) the first
    /// federation file.
    public func run(now: Date = Date()) throws(FederationError) -> Result {
        let ws = FileSystem.absolute(workspace)
        guard NameRules.isValidSiteName(name) else {
            throw .workspace(path: ws, reason: "invalid site name '\(name)'",
                             hint: "use 1-64 characters A-Z a-z 0-9 . _ -, starting with a letter or digit")
        }
        if role == .server && name != "server" {
            throw .workspace(path: ws, reason: "the server site must be named 'server' (job.yaml deploy maps address it by that name)",
                             hint: "run again with --name server")
        }
        if role == .client && name == "server" {
            throw .workspace(path: ws, reason: "a client cannot be named 'server'", hint: "choose another --name, e.g. the organisation's")
        }
        let projectName = project ?? "federation"
        if role == .server && !NameRules.isValidProjectName(projectName) {
            throw .workspace(path: ws, reason: "invalid federation name '\(projectName)'",
                             hint: "use 1-64 characters a-z 0-9 . _ -, starting with a letter or digit")
        }
        if FileSystem.exists(FileSystem.join(ws, "site.yaml")) || FileSystem.exists(FileSystem.join(ws, "keys")) {
            throw .workspace(path: ws, reason: "already holds a site workspace",
                             hint: "choose a new folder; to replace this site's key use `ferry site rotate-key \(ws)`")
        }
        if FileSystem.exists(ws) && !FileSystem.isDirectory(ws) {
            throw .workspace(path: ws, reason: "exists and is not a folder", hint: "choose a new folder")
        }
        let shareRoot = share.map(FileSystem.absolute)
        if let shareRoot, !FileSystem.isDirectory(shareRoot) {
            throw .workspace(path: shareRoot, reason: "the share folder does not exist (is the share mounted?)",
                             hint: "mount the share first, or pass its mount point with --share")
        }
        let recordedInbox: String
        if let inbox {
            recordedInbox = inbox.hasPrefix("/") || shareRoot == nil ? SharePath.record(inbox, share: shareRoot) : inbox
        } else {
            recordedInbox = shareRoot == nil ? FileSystem.join(ws, "inbox") : "inboxes/\(name)"
        }
        let inboxPath = SharePath.resolve(recordedInbox, share: shareRoot)
        let federation = role == .server
            ? (shareRoot == nil ? FileSystem.join(ws, "federation.yaml") : "federation-\(projectName).yaml") : nil

        let keys = SiteKeys.generate()
        let sealKey = SiteEncryptionKey.generate()
        let stamp = Timestamp.string(now)
        var config = SiteConfig(name: name, role: role, project: role == .server ? projectName : "", created: stamp,
                                updated: stamp, publicKey: keys.publicKeyText, inbox: recordedInbox, poll: nil, peers: [:])
        config.share = shareRoot
        config.federation = federation
        let card = SiteCard(name: name, role: role, publicKey: keys.publicKeyText, inbox: recordedInbox,
                            project: role == .server ? projectName : nil, federationFile: federation, created: stamp,
                            encryptionKey: sealKey.publicKeyText)
        let cardPath = FileSystem.join(ws, Self.cardFileName)
        do {
            try FileSystem.makeDirectory(ws)
            try FileSystem.makeDirectory(FileSystem.join(ws, "keys"), permissions: [.ownerReadWriteExecute])
            try FileSystem.makeDirectory(FileSystem.join(ws, "trusted"))
            try FileSystem.makeDirectory(FileSystem.join(ws, "jobs"))
            try FileSystem.makeDirectory(FileSystem.join(ws, "logs"))
            try FileSystem.makeDirectory(inboxPath)
        } catch {
            throw .io(path: ws, operation: "create the workspace", reason: "\(error)")
        }
        do {
            try keys.write(privateKeyPath: FileSystem.join(ws, "keys/site.key"), publicKeyPath: FileSystem.join(ws, "keys/site.pub"))
            try sealKey.write(workspace: ws)
            try config.write(to: FileSystem.join(ws, "site.yaml"))
        } catch {
            throw .io(path: ws, operation: "write the keys and site.yaml", reason: "\(error)")
        }
        try card.write(to: cardPath, keys: keys)
        var federationPath: String?
        if role == .server {
            let document = FederationDocument(
                project: projectName, serial: 1, issued: stamp, server: name,
                sites: [name: .init(role: .server, publicKey: keys.publicKeyText, inbox: recordedInbox, added: stamp)], revoked: [])
            let opened: SiteWorkspace
            do { opened = try SiteWorkspace.open(ws) } catch {
                throw .workspace(path: ws, reason: "\(error)", hint: "remove the folder and run `ferry site init` again")
            }
            federationPath = try FederationAdmin(server: opened).publish(document)
        }
        return Result(workspace: ws, card: cardPath, fingerprint: card.fingerprint, inbox: recordedInbox,
                      inboxPath: inboxPath, federationFile: federationPath)
    }
}
