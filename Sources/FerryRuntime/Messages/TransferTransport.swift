import FerryQuant
import FerrySupport
import FerryTransfer
import FerryWorkspace
import Foundation
import Logging
import Synchronization

/// Messages over FerryTransfer: each message is one transfer into the recipients' inboxes, signed
/// with the site key and sealed to the recipients' encryption keys (site.yaml peers' `encryption_key`);
/// the receiver trusts exactly the keys in the workspace's `trusted/` and refuses unsealed transfers.
///
/// A payload is sent under a unique name (a hard link `outbox/payloads/<message-id>.<ext>`), so the
/// received file is `received/<message-id>.<ext>` and two messages never collide in the output folder.
/// A received file still in `received/` at the start of a pass was never handled (the watcher died
/// between the transfer's commit and the handling): its metadata is recovered from the transfer's
/// manifest, which stays in the inbox until the transfer expires.
final class TransferTransport: MessageTransport {
    let receivedDirectory: String
    let payloadDirectory: String
    let options: WatcherOptions
    let logger: Logger
    /// What the workspace's keys and peers decide, replaced when the federation changes (``reload(_:)``).
    private struct Trust: Sendable {
        var workspace: SiteWorkspace
        var receiver: TransferReceiver
        var baseOptions: TransferOptions
        var signingKey: TransferSigningKey?
        /// This site's own encryption key (for messages to its own inbox).
        var ownRecipientKey: TransferRecipientKey
    }
    private let trust: Mutex<Trust>

    init(workspace: SiteWorkspace, options: WatcherOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        receivedDirectory = FileSystem.join(workspace.directory, "received")
        payloadDirectory = FileSystem.join(workspace.directory, "outbox/payloads")
        try FileSystem.makeDirectory(receivedDirectory)
        try FileSystem.makeDirectory(payloadDirectory)
        trust = Mutex(try Self.trust(workspace, options: options, receivedDirectory: receivedDirectory))
    }

    private static func trust(_ workspace: SiteWorkspace, options: WatcherOptions, receivedDirectory: String) throws -> Trust {
        var base = TransferOptions()
        base.pollInterval = options.pollInterval
        base.pollingOnly = !options.useInotify
        base.expire = options.transferExpiry
        base.senderName = workspace.name
        // Broadcast once: a message to several sites of the share group writes its chunks once there.
        base.broadcastShare = workspace.shareGroupRoot
        // The peers' announcement files are read by name on every pass: a new message is found as soon
        // as a share shows the new version of that file, never only when a listing refreshes.
        base.expectedSenders = workspace.trustedKeys.keys.sorted().filter { $0 != workspace.name }
        let signingKey = try? TransferSigningKey(rawRepresentation: Array(workspace.keys.privateKey.rawRepresentation))
        let trusted = workspace.trustedKeys.values.compactMap { try? TransferPublicKey(rawRepresentation: Array($0.rawRepresentation)) }
        let sealKey = try SiteEncryptionKey.load(workspace: workspace.directory)
        let decryptionKey = try TransferDecryptionKey(rawRepresentation: Array(sealKey.privateKey.rawRepresentation))
        // Messages sealed to the key before `ferry site rotate-key` (in flight during the rotation) still open.
        let previousKey = try SiteEncryptionKey.loadPrevious(workspace: workspace.directory)
            .map { try TransferDecryptionKey(rawRepresentation: Array($0.privateKey.rawRepresentation)) }
        let receiver = TransferReceiver(inbox: workspace.inboxDirectory, outputDirectory: receivedDirectory,
                                        options: base, trustedKeys: trusted, decryptionKey: decryptionKey,
                                        previousDecryptionKey: previousKey)
        return Trust(workspace: workspace, receiver: receiver, baseOptions: base, signingKey: signingKey,
                     ownRecipientKey: decryptionKey.publicKey)
    }

    /// The workspace whose keys and peers are in force.
    var workspace: SiteWorkspace { trust.withLock { $0.workspace } }

    /// Trusts the keys and peers of `workspace` from now on, and signs with its key. The new receiver
    /// continues the transfers in progress from their acknowledgements, as after a restart; sends in
    /// progress finish as they started. A workspace whose encryption key cannot be read keeps the
    /// previous trust in force (logged).
    func reload(_ workspace: SiteWorkspace) {
        let next: Trust
        do { next = try Self.trust(workspace, options: options, receivedDirectory: receivedDirectory) } catch {
            logger.error("the federation changed but \(workspace.directory)'s keys cannot be loaded; the previous keys stay in force: \(error)")
            return
        }
        trust.withLock { $0 = next }
    }

    func send(_ message: OutgoingMessage, inboxes: [String], stateDirectory: String,
              isCancelled: @escaping @Sendable () -> Bool) throws -> SendOutcome {
        let ext = (message.payload as NSString).pathExtension
        let link = FileSystem.join(payloadDirectory, message.id) + (ext.isEmpty ? "" : "." + ext)
        if !FileSystem.exists(link) {
            if Foundation.link(message.payload, link) != 0 {
                // Atomic: a full disk leaves no partial copy to be sent as if complete.
                try FileSystem.copy(message.payload, to: link)
            }
        }
        guard FileSystem.exists(link) else {
            throw RuntimeError.fileUnwritable(path: link, reason: "cannot stage the payload \(message.payload) for sending")
        }
        let (base, signingKey) = trust.withLock { ($0.baseOptions, $0.signingKey) }
        var options = base
        options.mode = message.mode
        options.chunkSize = message.chunkSize
        options.window = message.window
        options.windowBytes = message.windowBytes
        options.quantize = message.quantize
        options.metadata = message.metadata
        options.metadata[MessageKey.message] = message.id
        options.stateDirectory = stateDirectory
        let recipients = try recipientKeys(for: inboxes)
        var notes: [String] = []
        while true {
            let sender = TransferSender(source: link, inboxes: inboxes, options: options, signingKey: signingKey,
                                        recipients: recipients)
            do {
                let summary = try sender.run()
                FileSystem.remove(link)
                if summary.broadcastRecipients > 0 {
                    logger.info("\(message.id): broadcast once to \(summary.broadcastRecipients) inboxes of the share group, \(summary.shareBytesWritten) bytes written to the share")
                }
                return SendOutcome(bytesOnWire: summary.streamBytes, sourceBytes: summary.sourceBytes, notes: notes,
                                   shareBytes: summary.shareBytesWritten)
            } catch let error as TransferError {
                // A filter or the container mode this build cannot provide: the payload still goes, at full
                // precision / in file mode, and the job log says so (never a silent pretence).
                guard let fallback = Self.fallback(from: options, after: error) else { throw error }
                if message.filterRequired == true, fallback.options.quantize == nil {
                    throw RuntimeError.fileUnwritable(path: message.payload, reason: "filter \(options.quantize?.rawValue ?? "") unavailable (\(error)); "
                        + "not sent: this site's policy.yaml requires a filter on results (filters.to_server), so they never go at full precision")
                }
                notes.append(fallback.note)
                logger.warning("\(message.id): \(fallback.note)")
                options = fallback.options
            }
        }
    }

    /// The encryption keys of the sites whose inboxes these are; a peer without one is an error (a
    /// message is never sent in the clear).
    func recipientKeys(for inboxes: [String]) throws -> [TransferRecipientKey] {
        let peers = workspace.peers
        return try inboxes.map { inbox throws -> TransferRecipientKey in
            if inbox == workspace.inboxDirectory { return trust.withLock { $0.ownRecipientKey } }
            guard let (name, peer) = peers.first(where: { $0.value.inbox == inbox }) else {
                throw RuntimeError.fileUnwritable(path: inbox, reason: "no peer in \(workspace.siteFile) has this inbox, so there is no key to seal the message to")
            }
            guard let text = peer.encryptionKey, let key = try? TransferRecipientKey(text: text) else {
                throw RuntimeError.fileUnwritable(path: inbox, reason: "peer '\(name)' has no encryption_key in \(workspace.siteFile) (its card predates sealed transfers): the site runs `ferry site encryption-key WORKSPACE` and sends its new card; then `ferry federation add` it again (or re-run `ferry provision`)")
            }
            return key
        }
    }

    /// The options to retry a send with when `error` says a filter or the container mode is unavailable
    /// (the producer refuses before anything is written to the inboxes), or nil when there is no fallback.
    static func fallback(from options: TransferOptions, after error: TransferError) -> (options: TransferOptions, note: String)? {
        var retry = options
        switch error {
        case .invalidOption(let reason) where options.quantize != nil:
            retry.quantize = nil
            return (retry, "filter unavailable: \(options.quantize!.rawValue) (\(reason)); sent at full precision instead")
        case .invalidSource(_, let reason) where options.quantize != nil,
             .notAContainer(_, let reason) where options.quantize != nil:
            retry.quantize = nil
            return (retry, "filter unavailable: \(options.quantize!.rawValue) (\(reason)); sent at full precision instead")
        case .notAContainer(_, let reason) where options.mode == .container:
            retry.mode = .file
            return (retry, "container mode unavailable (\(reason)); sent in file mode instead")
        default:
            return nil
        }
    }

    func receive() throws -> [IncomingMessage] {
        let pass = try trust.withLock { $0.receiver }.poll()
        for failed in pass.failed {
            logger.warning("refused transfer \(failed.transferID) from \(failed.sender ?? "unknown sender"): \(failed.reason)")
        }
        for t in pass.completed where t.openedWithPreviousKey {
            logger.notice("transfer \(t.transferID) from \(t.sender) was sealed to this site's previous encryption key; opened with keys/encryption.key.previous (the sender does not have the rotated key yet)")
        }
        for t in pass.completed where t.damagedChunksResent > 0 {
            logger.warning("transfer \(t.transferID) from \(t.sender): \(t.damagedChunksResent) chunk file(s) arrived torn and were sent again (did the host holding the inbox crash?)")
        }
        var messages = pass.completed.map { t in
            IncomingMessage(transferID: t.transferID, sender: t.sender, metadata: t.metadata, path: t.outputPath,
                            wireBytes: t.streamBytes, outputBytes: t.outputBytes, signer: t.signerPublicKey)
        }
        let reported = Set(messages.map(\.path))
        let leftovers = FileSystem.list(receivedDirectory).filter { !$0.hasPrefix(".") }
            .map { FileSystem.join(receivedDirectory, $0) }.filter { !reported.contains($0) }
        if !leftovers.isEmpty { messages += recover(leftovers) }
        return messages
    }

    /// Rebuilds the messages of received files left unhandled by a previous run.
    private func recover(_ files: [String]) -> [IncomingMessage] {
        var byName: [String: (String, TransferManifest)] = [:]
        for id in FileSystem.list(workspace.inboxDirectory) {
            let path = FileSystem.join(workspace.inboxDirectory, id, "manifest.json")
            guard let data = FileManager.default.contents(atPath: path),
                  let manifest = try? JSONDecoder().decode(TransferManifest.self, from: data) else { continue }
            byName[manifest.source.name] = (id, manifest)
        }
        var out: [IncomingMessage] = []
        for file in files {
            let name = (file as NSString).lastPathComponent
            guard let (id, manifest) = byName[name] else {
                logger.warning("removing \(file): received earlier but its transfer is gone from the inbox")
                FileSystem.remove(file)
                continue
            }
            logger.info("recovered message \(manifest.metadata[MessageKey.message] ?? id) received before a restart")
            out.append(IncomingMessage(transferID: id, sender: manifest.sender, metadata: manifest.metadata, path: file,
                                       wireBytes: manifest.streamSize, outputBytes: FileSystem.size(file), signer: manifest.signerPublicKey))
        }
        return out
    }
}
