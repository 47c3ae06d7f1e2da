import FerrySupport
import Foundation

/// Receives transfers dropped into an inbox folder (docs/transfer-protocol.md) and writes each
/// output file into an output folder, verified, filters undone, renamed into place only when whole.
///
/// ``processPending()`` is one non-blocking pass; ``run(until:)`` loops. Restarted after a crash, a
/// receiver continues every transfer from its ack and partial output. Safe to share between threads:
/// passes are serialized by a lock.
public final class TransferReceiver: @unchecked Sendable {
    /// The inbox folder senders write into.
    public let inbox: String
    /// Where completed outputs are renamed into place.
    public let outputDirectory: String
    /// Polling and expiry settings.
    public let options: TransferOptions
    /// When not empty, only transfers signed by one of these keys are accepted.
    public let trustedKeys: [TransferPublicKey]
    /// Opens sealed transfers (protocol version 2) wrapped for its public half.
    public let decryptionKey: TransferDecryptionKey?
    /// The key this receiver had before its last rotation (`keys/encryption.key.previous` of a site):
    /// tried when a transfer is not sealed to ``decryptionKey``, so a transfer in flight during a
    /// rotation still opens. ``ReceivedTransfer/openedWithPreviousKey`` says when it was used.
    public let previousDecryptionKey: TransferDecryptionKey?
    private let progress: (@Sendable (TransferProgress) -> Void)?
    private let lock = NSLock()
    private var sessions: [String: ReceiveSession] = [:]
    private var waiter: ChangeWaiter?
    /// Transfers found settled (complete or refused): skipped between sweeps.
    private var settled = Set<String>()
    /// Announcement files found by sweeps.
    private var announcers = Set<String>()
    private var lastSweep: Double?

    /// Prepares a receiver; nothing is read until the first pass.
    /// - Parameter progress: called after every consumed chunk.
    public init(inbox: String, outputDirectory: String, options: TransferOptions = TransferOptions(),
                trustedKeys: [TransferPublicKey] = [], decryptionKey: TransferDecryptionKey? = nil,
                previousDecryptionKey: TransferDecryptionKey? = nil,
                progress: (@Sendable (TransferProgress) -> Void)? = nil) {
        self.decryptionKey = decryptionKey
        self.previousDecryptionKey = decryptionKey == nil ? nil : previousDecryptionKey
        self.inbox = inbox
        self.outputDirectory = outputDirectory
        self.options = options
        self.trustedKeys = trustedKeys
        self.progress = progress
    }

    /// One pass over the inbox: consumes every chunk available in every transfer and returns the
    /// transfers completed in this pass.
    public func processPending() throws -> [ReceivedTransfer] {
        try poll().completed
    }

    /// One pass over the inbox, also reporting refused and expired transfers.
    ///
    /// A pass never waits for a directory listing: it learns of transfers from the announcement files
    /// of its expected senders (and of the senders earlier sweeps found), read by name, and continues
    /// the transfers it knows. The inbox itself is listed by the sweep (every pass with inotify or
    /// without expected senders, else every ``TransferOptions/sweepInterval``), which also finds
    /// transfers of senders that do not announce and expires old ones.
    public func poll() throws -> ReceivePass {
        lock.lock()
        defer { lock.unlock() }
        guard FileSystem.isDirectory(inbox) else {
            throw TransferError.invalidFolder(path: inbox, reason: "inbox folder does not exist; create it or check the path")
        }
        guard FileSystem.isDirectory(outputDirectory) else {
            throw TransferError.invalidFolder(path: outputDirectory, reason: "output folder does not exist; create it or check the path")
        }
        var pass = ReceivePass()
        let now = Syscall.realTime()
        let expireSeconds = Double(options.expire.milliseconds) / 1000
        // Without expected senders nothing can be looked up by name: every pass is a sweep, as before.
        let sweep = !options.pollingOnly || options.expectedSenders.isEmpty || lastSweep.map { now - $0 >= Double(options.sweepInterval.milliseconds) / 1000 } ?? true
        if sweep { lastSweep = now }
        var candidates = announcedTransfers(sweep: sweep)
        if sweep {
            candidates.formUnion(FileSystem.list(inbox).filter { TransferID(hex: $0) != nil && $0 == $0.lowercased() })
        } else {
            candidates.subtract(settled)
        }
        candidates.formUnion(sessions.keys)
        var live = Set<String>()
        for name in candidates.sorted() {
            let dir = FileSystem.join(inbox, name)
            guard FileSystem.isDirectory(dir) else { continue }
            live.insert(name)
            waiter?.watch(dir)
            let idle = now - (FileSystem.info(dir)?.modified ?? now)
            if try isSettled(dir) {
                sessions[name] = nil
                settled.insert(name)
                if idle > expireSeconds { FileSystem.remove(dir); waiter?.forget(dir); settled.remove(name) }
                continue
            }
            if idle > expireSeconds {
                sessions[name]?.discard()
                sessions[name] = nil
                FileSystem.remove(FileSystem.join(outputDirectory, TransferLayout.partialName(name)))
                FileSystem.remove(dir)
                waiter?.forget(dir)
                pass.expired.append(name)
                continue
            }
            do {
                if let done = try advance(name: name, dir: dir) { pass.completed.append(done); settled.insert(name) }
            } catch let refusal as Refusal {
                pass.failed.append(refuse(name: name, dir: dir, reason: refusal.reason))
                settled.insert(name)
            } catch {
                // An I/O failure (disk full, EIO) is not the transfer's fault: keep the partial output and
                // the ack, so a later pass or a restarted receiver resumes from the last acknowledged chunk
                // (the chunks consumed since the last ack are acknowledged first, where that still works).
                try? sessions[name]?.acknowledge()
                sessions[name]?.suspend()
                sessions[name] = nil
                throw error
            }
        }
        for name in Array(sessions.keys) where !live.contains(name) {
            sessions[name]?.discard()
            sessions[name] = nil
        }
        if sweep {
            settled.formIntersection(live)
            cleanOrphans(live: live, now: now, expireSeconds: expireSeconds)
        }
        return pass
    }

    /// Transfer ids named by the announcement files of the expected senders and of the senders found
    /// by sweeps (the announcement folder is listed on sweeps only).
    private func announcedTransfers(sweep: Bool) -> Set<String> {
        let folder = FileSystem.join(inbox, TransferAnnouncements.folder)
        if sweep {
            for file in FileSystem.list(folder) where !file.hasPrefix(".") { announcers.insert(file) }
        }
        var ids = Set<String>()
        for file in announcers.union(options.expectedSenders.map { TransferAnnouncements.fileName(sender: $0) }) {
            guard let record = TransferAnnouncements.read(FileSystem.join(folder, file)) else { continue }
            for id in record.transfers where TransferID(hex: id) != nil && id == id.lowercased() { ids.insert(id) }
        }
        return ids
    }

    /// Loops passes until `until()` returns true (checked after every pass), sleeping on inotify or
    /// the poll interval in between. Returns everything completed.
    @discardableResult
    public func run(until: (ReceivePass) -> Bool) throws -> [ReceivedTransfer] {
        lock.lock()
        if waiter == nil {
            let w = ChangeWaiter(notifications: !options.pollingOnly)
            w.watch(inbox)
            waiter = w
        }
        let w = waiter!
        lock.unlock()
        var all = [ReceivedTransfer]()
        while true {
            let pass = try poll()
            all += pass.completed
            if until(pass) { return all }
            if pass.completed.isEmpty && pass.failed.isEmpty { w.wait(timeout: options.pollInterval) }
        }
    }

    private func isSettled(_ dir: String) throws -> Bool {
        if FileSystem.exists(FileSystem.join(dir, TransferLayout.failed)) { return true }
        guard let raw = try TransferError.io({ try FileSystem.readIfPresent(FileSystem.join(dir, TransferLayout.ack)) }),
              let ack = TransferAck.decode(raw) else { return false }
        return ack.state == "complete"
    }

    private func advance(name: String, dir: String) throws -> ReceivedTransfer? {
        let session: ReceiveSession
        if let s = sessions[name] {
            session = s
        } else {
            let manifestRead: [UInt8]?
            do { manifestRead = try TransferError.io({ try FileSystem.readIfPresent(FileSystem.join(dir, TransferLayout.manifest), limit: 1 << 20) }) } catch {
                throw Refusal(reason: "manifest.json cannot be read: \(error)")
            }
            guard let raw = manifestRead else { return nil }
            guard let manifest = TransferManifest.decode(raw) else {
                throw Refusal(reason: "manifest.json is not a valid transfer manifest")
            }
            let chunks: String
            switch try BroadcastRecord.chunkSource(inbox: inbox, dir: dir, id: name, manifestBytes: raw, manifest: manifest,
                                                   decryptionKeys: [decryptionKey, previousDecryptionKey].compactMap { $0 }, trustedKeys: trustedKeys) {
            case .inbox: chunks = dir
            case .shared(let area): chunks = area
            case .notYet: return nil
            }
            for tmp in FileSystem.list(dir) where tmp.hasPrefix(".ack.tmp-") { FileSystem.remove(FileSystem.join(dir, tmp)) }
            session = try ReceiveSession(id: name, dir: dir, manifestBytes: raw, manifest: manifest,
                                         outputDirectory: outputDirectory, trustedKeys: trustedKeys,
                                         checkpointInterval: options.checkpointInterval,
                                         decryptionKeys: [decryptionKey, previousDecryptionKey].compactMap { $0 },
                                         acceptUnencrypted: options.encryption == .none, chunkDirectory: chunks)
            sessions[name] = session
            if chunks != dir { waiter?.watch(chunks) }
            removeStaleChunks(session)
        }
        removeRepublishedChunks(session)
        while try session.consumeNext(options: options) {
            progress?(TransferProgress(transferID: name, bytes: session.bytes, totalBytes: session.manifest.streamSize,
                                       chunks: session.consumed, chunkCount: session.manifest.chunkCount,
                                       tensorsCompleted: session.lastCompletedTensors))
        }
        // Caught up (or a damaged chunk was set aside): the sender waits for this ack to go on.
        try session.acknowledge()
        guard try session.commitIfFinal(trustedKeys: trustedKeys) else { return nil }
        sessions[name] = nil
        let m = session.manifest
        return ReceivedTransfer(transferID: name, sender: m.sender, metadata: m.metadata, outputPath: session.outputPath,
                                streamBytes: session.bytes, outputBytes: FileSystem.info(session.outputPath)?.size ?? 0,
                                sourceBytes: m.source.size, mode: m.mode, filters: m.filters,
                                signed: m.signerPublicKey != nil, signerPublicKey: m.signerPublicKey, sealed: m.encryption != nil,
                                openedWithPreviousKey: (session.decryptionKeyUsed ?? 0) > 0,
                                damagedChunksResent: session.damagedChunks)
    }

    /// Chunks at or below the ack were consumed before a crash cut the deletion short: remove them.
    private func removeStaleChunks(_ session: ReceiveSession) {
        for name in FileSystem.list(session.dir) {
            if let i = TransferLayout.chunkIndex(name), i <= session.consumed {
                FileSystem.remove(FileSystem.join(session.dir, name))
            }
        }
    }

    /// A sender that read an older ack through a stale client cache may publish again a chunk this
    /// receiver already consumed; it waits for that chunk to disappear. Such chunks are removed by name
    /// (a listing might not show them for a cache period): the last two windows below the ack.
    private func removeRepublishedChunks(_ session: ReceiveSession) {
        let low = max(1, session.acknowledged - 2 * max(1, session.manifest.window) + 1)
        guard low <= session.acknowledged else { return }
        for i in low...session.acknowledged { FileSystem.remove(FileSystem.join(session.dir, TransferLayout.chunkName(i))) }
    }

    private func refuse(name: String, dir: String, reason: String) -> FailedTransfer {
        let sender = sessions[name]?.manifest.sender
            ?? (try? FileSystem.readIfPresent(FileSystem.join(dir, TransferLayout.manifest))).flatMap { $0.flatMap(TransferManifest.decode) }?.sender
        sessions[name]?.discard()
        sessions[name] = nil
        FileSystem.remove(FileSystem.join(outputDirectory, TransferLayout.partialName(name)))
        let record = TransferFailureRecord(reason: reason, at: Timestamp.now())
        try? FileSystem.write(record.encoded(), to: FileSystem.join(dir, TransferLayout.failed))
        for file in FileSystem.list(dir) where TransferLayout.chunkIndex(file) != nil {
            FileSystem.remove(FileSystem.join(dir, file))
        }
        return FailedTransfer(transferID: name, sender: sender, reason: reason)
    }

    /// Partial outputs whose transfer folder is gone, once they are older than the expiry time.
    private func cleanOrphans(live: Set<String>, now: Double, expireSeconds: Double) {
        let prefix = TransferLayout.partialName("")
        for file in FileSystem.list(outputDirectory) where file.hasPrefix(prefix) {
            let id = String(file.dropFirst(prefix.count))
            let path = FileSystem.join(outputDirectory, file)
            if !live.contains(id), let info = FileSystem.info(path), now - info.modified > expireSeconds { FileSystem.remove(path) }
        }
    }
}
