import FerrySupport
import FerryTransfer
import FerryWorkspace
import Foundation
import Logging

/// The watcher's view of the signed federation file (docs/deployment.md): which sites were removed and
/// which keys revoked. The server refuses their messages and its jobs stop waiting for them; a client
/// that finds itself revoked refuses all work. A federation file that does not verify, or is older than
/// the one accepted, is refused (logged once) and the last valid one stays in force. Workspaces made by
/// `ferry provision` have no federation file: nothing is refused.
final class FederationGate {
    /// The workspace as last (re)loaded by the watcher.
    var workspace: SiteWorkspace
    let logger: Logger
    /// Server: names of removed sites (not members again).
    private(set) var removed: Set<String> = []
    private(set) var revokedKeys: Set<String> = []
    /// Client: why this site takes no work (it was removed), nil otherwise.
    private(set) var refusal: String?
    /// Client: this site's key was revoked (removed from the federation): its running work stops.
    private(set) var isRevoked = false
    private var lastSeen: (size: Int64, modified: Double)?
    private var lastProblem: String?
    private var lastSerial = 0

    init(workspace: SiteWorkspace, logger: Logger) {
        self.workspace = workspace
        self.logger = logger
        if workspace.role == .client && workspace.server == nil {
            // A client made by `ferry site init` trusts no server yet: it must not take work from anyone.
            refusal = "this site has not joined a federation yet: run `ferry site join \(workspace.directory) SERVER_CARD`"
            logger.error("\(refusal!)")
        }
    }

    /// Reads the federation file again when it changed (a lookup by name, never a listing); true when a
    /// new serial was accepted, so the watcher reloads the trusted keys and peers it names.
    @discardableResult
    func refresh() -> Bool {
        guard let path = workspace.role == .server ? workspace.acceptedFederationFile : workspace.federationFile else { return false }
        let seen = FileSystem.info(path)
        if let seen, let lastSeen, seen == lastSeen { return false }
        lastSeen = seen
        do {
            guard let view = try FederationCheck.refresh(workspace) else { return false }
            lastProblem = nil
            let document = view.document
            removed = document.removedNames
            revokedKeys = Set(document.revoked.map(\.publicKey))
            isRevoked = view.isRevoked
            refusal = view.isRevoked
                ? "this site's key was revoked in federation '\(document.project)' (serial \(document.serial)): it was removed with `ferry federation remove`; ask the coordinator"
                : nil
            if document.serial != lastSerial {
                lastSerial = document.serial
                logger.info("federation '\(document.project)' serial \(document.serial): \(document.clientNames.count) client(s)\(removed.isEmpty ? "" : ", removed: \(removed.sorted().joined(separator: ", "))")")
                if let refusal { logger.error("\(refusal)") }
                return true
            }
        } catch {
            let text = "\(error)"
            if text != lastProblem {
                lastProblem = text
                logger.error("federation file refused; the last valid one stays in force: \(text)")
            }
        }
        return false
    }

    /// Why `message` is refused, or nil: it comes from a removed site or is signed by a revoked key (the
    /// server), or this site was removed (a client).
    func refusal(of message: IncomingMessage) -> String? {
        if let refusal { return refusal }
        guard workspace.role == .server, !(removed.isEmpty && revokedKeys.isEmpty) else { return nil }
        if removed.contains(message.site) || removed.contains(message.sender) {
            return "'\(message.site)' was removed from the federation (ferry federation remove)"
        }
        if let key = message.signer, revokedKeys.contains(key) {
            return "the transfer is signed by a revoked key of '\(message.site)'"
        }
        return nil
    }
}
