import Crypto
import FerrySupport

/// Sends one file to one or more inbox folders with the ferry transfer protocol
/// (docs/transfer-protocol.md): manifest, chunks under a window, final record.
///
/// The source is read (and quantized) once whatever the number of inboxes; the slowest receiver's
/// window bounds the producer. ``run(progress:)`` blocks until every receiver has acknowledged the whole
/// stream. Killed at any point, running the same send again resumes the same transfer from the receivers'
/// acks. Safe to use from any thread: a sender holds only immutable configuration.
public final class TransferSender: Sendable {
    /// The file being sent.
    public let source: String
    /// The receivers' inbox folders.
    public let inboxes: [String]
    /// Chunking, window, filters, polling and expiry.
    public let options: TransferOptions
    /// Signs the final record when set.
    public let signingKey: TransferSigningKey?
    /// The X25519 keys the transfer is sealed to (each can open every chunk); required unless
    /// ``TransferOptions/encryption`` is `none`.
    public let recipients: [TransferRecipientKey]

    /// Prepares a transfer of `source` into every folder of `inboxes`, sealed to `recipients`.
    public init(source: String, inboxes: [String], options: TransferOptions = TransferOptions(),
                signingKey: TransferSigningKey? = nil, recipients: [TransferRecipientKey] = []) {
        self.source = source
        self.inboxes = inboxes
        self.options = options
        self.signingKey = signingKey
        self.recipients = recipients
    }

    /// Runs the transfer to completion (or failure) and returns what it did.
    /// - Parameter progress: called after each chunk is published to every receiver.
    public func run(progress: ((TransferProgress) -> Void)? = nil) throws -> TransferSummary {
        let clock = ContinuousClock()
        let start = clock.now
        try options.validate()
        guard !inboxes.isEmpty else { throw TransferError.invalidOption("give at least one inbox folder") }
        if options.encryption == .sealed, recipients.isEmpty {
            throw TransferError.invalidOption("a sealed transfer needs at least one recipient encryption key (--to KEY_OR_CARD); to send unencrypted for debugging, pass --encryption none (the receiver must also allow it)")
        }
        for inbox in inboxes where !FileSystem.isDirectory(inbox) {
            throw TransferError.invalidFolder(path: inbox, reason: "inbox folder does not exist; create it or check the path")
        }
        let producer = try StreamProducer(sourcePath: source, options: options)
        let (state, statePath, resumedState) = try loadState(producer: producer)
        let manifest = makeManifest(state: state, producer: producer)
        var run = SenderRun(id: state.transferId, manifestBytes: manifest.encoded(), inboxes: inboxes,
                            options: options, plan: producer.plan, senderName: manifest.sender)
        if let encryption = state.encryption, let key = state.contentKeyBytes {
            run.version = TransferManifest.sealedVersion
            run.cipher = ContentCipher(key: key, aead: encryption.aead, transferID: TransferID(hex: state.transferId)!.bytes,
                                       chunkCount: producer.plan.chunks.count)
        }
        try prepareBroadcast(&run, id: state.transferId)
        try run.prepareInboxes()
        let resumed = resumedState || run.receivers.contains { $0.consumed > 0 }
        let result = try run.stream(producer: producer, signingKey: signingKey, progress: progress)
        FileSystem.remove(statePath)
        if let failure = run.receivers.first(where: { $0.failure != nil }) {
            throw TransferError.refused(inbox: failure.inbox, transferID: state.transferId, reason: failure.failure ?? "")
        }
        return TransferSummary(
            transferID: state.transferId, sourceBytes: producer.sourceInfo.size,
            streamBytes: producer.plan.streamSize, wireBytesWritten: result,
            chunkCount: producer.plan.chunks.count, receivers: run.receivers.count,
            sourcePasses: producer.passes, producedBytes: producer.producedBytes,
            resumed: resumed, elapsed: clock.now - start, sealed: run.cipher != nil,
            shareBytesWritten: run.shareBytes, broadcastRecipients: run.receivers.filter(\.shared).count,
            sparesReused: run.sparesReused)
    }

    /// Broadcast once: with ``TransferOptions/broadcastShare`` and two or more inboxes below it, their
    /// chunks go once into the shared area there (docs/transfer-protocol.md, section 14).
    private func prepareBroadcast(_ run: inout SenderRun, id: String) throws {
        guard let root = options.broadcastShare else { return }
        let relative = inboxes.map { BroadcastLayout.relativeArea(inbox: $0, root: root, id: id) }
        guard relative.compactMap({ $0 }).count >= 2 else { return }
        guard run.cipher != nil else {
            throw TransferError.invalidOption("broadcast once (--share \(root)) needs a sealed transfer: drop --encryption none, or drop --share to send one copy per inbox")
        }
        guard recipients.count == inboxes.count else {
            throw TransferError.invalidOption("broadcast once (--share \(root)) needs one recipient key per inbox, in the inboxes' order (got \(recipients.count) keys for \(inboxes.count) inboxes)")
        }
        try run.prepareArea(BroadcastLayout.area(root: root, id: id), root: root, relative: relative,
                            recipients: recipients.map(\.base64), signingKey: signingKey)
    }

    private func loadState(producer: StreamProducer) throws(TransferError) -> (SenderState, String, Bool) {
        let path = SenderState.path(source: source, inboxes: inboxes, options: options)
        let info = FileSystem.info(source)
        let sealed = options.encryption == .sealed
        if let s = SenderState.load(path), s.sourceSize == info?.size, s.sourceModified == info?.modified,
           TransferID(hex: s.transferId) != nil, s.matches(sealedTo: sealed ? recipients : nil) {
            return (s, path, true)
        }
        var s = SenderState(transferId: TransferID.random().hex, created: Timestamp.now(),
                            sourceSize: info?.size ?? 0, sourceModified: info?.modified ?? 0)
        if sealed {
            let key = ContentCipher.randomKey()
            do {
                s.encryption = try KeyWrap.wrap(contentKey: key, for: recipients, transferID: s.transferId,
                                                aead: options.aead ?? .preferred)
            } catch {
                throw .invalidOption("cannot wrap the content key for the recipients: \(error)")
            }
            s.contentKey = key.base64
        }
        try s.save(path)
        return (s, path, false)
    }

    private func makeManifest(state: SenderState, producer: StreamProducer) -> TransferManifest {
        var manifest = TransferManifest(
            protocolVersion: TransferManifest.currentVersion, transferId: state.transferId,
            sender: options.senderName ?? Syscall.hostName(), created: state.created, mode: options.mode,
            chunkSize: options.chunkSize, window: options.chunkWindow, filters: producer.filters,
            source: producer.sourceInfo, streamSize: producer.plan.streamSize,
            chunkCount: producer.plan.chunks.count, signerPublicKey: signingKey?.publicKey.base64,
            metadata: options.metadata)
        if let encryption = state.encryption {
            manifest.protocolVersion = TransferManifest.sealedVersion
            manifest.encryption = encryption
        }
        return manifest
    }
}
