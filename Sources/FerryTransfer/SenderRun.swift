import Crypto
import FerrySupport
import Foundation

/// The state of one sender run: one producer, one consumer state per inbox.
struct SenderRun {
    struct Receiver {
        var inbox: String
        var dir: String
        /// Where this receiver's chunks are published: `dir`, or the shared area of a broadcast.
        var chunkDir: String
        /// Reads its chunks from the shared area (broadcast once).
        var shared = false
        /// A shared receiver the sender gave up on (no progress for the expiry time), so that it no
        /// longer pins the shared area.
        var dropped = false
        var consumed = 0
        var chain = DigestChain()
        var complete = false
        var failure: String?
        var lastProgress: Double
        /// `updated` of the newest ack read: an ack older than that is a stale view of a share's client
        /// cache, not news (a receiver that really rewinds writes a newer ack).
        var lastAckTime: String?
        /// Since when the chunk after the ack (the index here) has looked lost, if it does.
        var suspectedLoss: (next: Int, since: Double)?
    }

    let id: String
    let manifestBytes: [UInt8]
    /// The protocol version of the manifest (1 unencrypted, 2 sealed); names the signed text.
    var version = TransferManifest.currentVersion
    /// Seals the chunks of a version-2 transfer.
    var cipher: ContentCipher?
    let options: TransferOptions
    let plan: ChunkPlan
    /// The manifest's sender, which names its announcement file.
    let senderName: String
    var receivers: [Receiver]
    let waiter: ChangeWaiter
    /// A receiver moved its ack back (it restarted after a crash of its host and resumes from its last
    /// durable point): the stream must start again from there.
    var rewound = false
    /// Broadcast once: the shared area the `shared` receivers read their chunks from.
    var area: String?
    /// The shared area's chunks up to this index are deleted (every shared receiver consumed them).
    var areaCollected = 0
    /// Every byte this run wrote to the share: chunk files, manifests, records.
    var shareBytes: Int64 = 0
    /// Chunks published by overwriting a spare (a consumed chunk's file) instead of a new file.
    var sparesReused = 0

    init(id: String, manifestBytes: [UInt8], inboxes: [String], options: TransferOptions, plan: ChunkPlan, senderName: String) {
        self.id = id
        self.senderName = senderName
        self.manifestBytes = manifestBytes
        self.options = options
        self.plan = plan
        let now = Syscall.realTime()
        receivers = inboxes.map {
            Receiver(inbox: $0, dir: FileSystem.join($0, id), chunkDir: FileSystem.join($0, id), lastProgress: now)
        }
        waiter = ChangeWaiter(notifications: !options.pollingOnly)
    }

    /// Creates each transfer folder and its manifest (kept when already there), removes the sender's
    /// own leftover temporary files, and reads the acks.
    mutating func prepareInboxes() throws {
        for i in receivers.indices {
            let dir = receivers[i].dir
            try placeManifest(in: dir)
            try TransferAnnouncements.announce(id: id, sender: senderName, inbox: receivers[i].inbox)
            waiter.watch(dir)
            try refresh(i)
        }
    }

    /// Creates `dir` (a transfer folder or a shared area), removes the sender's own leftover temporary
    /// files there, and writes the manifest, or checks that the one there is byte-identical.
    mutating func placeManifest(in dir: String) throws {
        try TransferError.io({ try FileSystem.makeDirectory(dir) })
        for name in FileSystem.list(dir) where name.hasPrefix(".") && name.contains(".tmp-") && !name.hasPrefix(".ack") {
            FileSystem.remove(FileSystem.join(dir, name))
        }
        let path = FileSystem.join(dir, TransferLayout.manifest)
        if let existing = try TransferError.io({ try FileSystem.readIfPresent(path) }) {
            guard existing == manifestBytes else {
                throw TransferError.invalidFolder(
                    path: dir, reason: "holds a different manifest for transfer \(id); remove the folder or the sender state file and send again")
            }
        } else {
            try TransferError.io({ try FileSystem.write(manifestBytes, to: path) })
            shareBytes += Int64(manifestBytes.count)
        }
    }

    /// Re-reads the ack and failure record of receiver `i`.
    mutating func refresh(_ i: Int) throws {
        let dir = receivers[i].dir
        if let bytes = try TransferError.io({ try FileSystem.readIfPresent(FileSystem.join(dir, TransferLayout.failed)) }) {
            receivers[i].failure = TransferFailureRecord.decode(bytes)?.reason ?? "the receiver refused the transfer"
            return
        }
        guard let bytes = try TransferError.io({ try FileSystem.readIfPresent(FileSystem.join(dir, TransferLayout.ack)) }),
              let ack = TransferAck.decode(bytes), ack.transferId == id else { return }
        if let seen = receivers[i].lastAckTime, seen.count == ack.updated.count, ack.updated < seen { return }
        receivers[i].lastAckTime = ack.updated
        if ack.consumed > receivers[i].consumed || (ack.state == "complete") != receivers[i].complete {
            receivers[i].lastProgress = Syscall.realTime()
        }
        if ack.consumed < receivers[i].consumed {
            rewound = true
            receivers[i].lastProgress = Syscall.realTime()
        }
        receivers[i].consumed = ack.consumed
        receivers[i].chain = DigestChain(hex: ack.chain) ?? DigestChain()
        receivers[i].complete = ack.state == "complete"
    }

    var active: [Int] { receivers.indices.filter { receivers[$0].failure == nil } }

    /// Produces every chunk once, publishes it to each receiver that still needs it, writes the final
    /// records and waits for every receiver to complete.
    /// - Returns: chunk payload bytes written in this run.
    mutating func stream(producer: StreamProducer, signingKey: TransferSigningKey?,
                         progress: ((TransferProgress) -> Void)?) throws -> Int64 {
        var written: Int64 = 0
        while try !streamPass(producer: producer, signingKey: signingKey, progress: progress, written: &written) {}
        return written
    }

    /// One pass from the lowest ack to the end. Returns false when a receiver rewound its ack.
    private mutating func streamPass(producer: StreamProducer, signingKey: TransferSigningKey?,
                                     progress: ((TransferProgress) -> Void)?, written: inout Int64) throws -> Bool {
        rewound = false
        // Resume from the receiver that is furthest behind; its ack carries the chain state there.
        let needing = active.filter { !receivers[$0].complete }
        let behind = needing.min { receivers[$0].consumed < receivers[$1].consumed }
        let startChunk = behind.map { min(receivers[$0].consumed, plan.chunks.count) } ?? plan.chunks.count
        var chain = behind.map { receivers[$0].chain } ?? DigestChain()
        if startChunk < plan.chunks.count {
            try producer.seek(to: plan.chunks[startChunk].offset)
        }
        var targets: [ChunkPipeline.Target] = []
        for i in needing {
            let target = ChunkPipeline.Target(dir: receivers[i].chunkDir, durable: receivers[i].shared,
                                              spareWindow: receivers[i].shared ? nil : options.chunkWindow)
            if !targets.contains(target) { targets.append(target) }
        }
        let pipeline = ChunkPipeline(producer: producer, plan: plan, range: startChunk..<plan.chunks.count,
                                     transferID: TransferID(hex: id)!.bytes, cipher: cipher, targets: targets)
        defer { pipeline.cancel() }
        for _ in startChunk..<plan.chunks.count {
            if active.isEmpty { break }
            let chunk = try pipeline.next()
            chain.append(chunk.digest)
            for i in active {
                if try publish(chunk, from: pipeline, to: i) { written += Int64(chunk.payloadLength) }
                if rewound { return false }
            }
            pipeline.release()
            let spec = plan.chunks[chunk.index - 1]
            progress?(TransferProgress(transferID: id, bytes: spec.offset + Int64(spec.length),
                                       totalBytes: plan.streamSize, chunks: chunk.index, chunkCount: plan.chunks.count))
        }
        return try finish(chain: chain, signingKey: signingKey)
    }

    /// Publishes `chunk` to receiver `i` once its window allows; false when it was not needed.
    private mutating func publish(_ chunk: ChunkPipeline.Chunk, from pipeline: ChunkPipeline, to i: Int) throws -> Bool {
        let index = chunk.index
        let path = FileSystem.join(receivers[i].chunkDir, TransferLayout.chunkName(index))
        guard let staged = pipeline.targets.firstIndex(where: { $0.dir == receivers[i].chunkDir }).map({ chunk.staged[$0] }) else {
            return false
        }
        while true {
            if receivers[i].shared { try refreshShared() } else { try refresh(i) }
            let r = receivers[i]
            if rewound { return false }
            if r.failure != nil || r.complete || r.consumed >= index || FileSystem.opens(path) { return false }
            // Already published into this folder for an earlier receiver (a shared area): gone again
            // means lost after its publication, which the lost-chunk rule below publishes anew from the
            // receiver's ack (the staged file itself cannot be published twice).
            if staged.isClosed { return false }
            // The ack moves before the receiver deletes the consumed chunk: also wait for that deletion,
            // so the folder never holds more than `window` chunks. A shared area goes at the pace of its
            // fastest receiver; the others read the chunks it keeps until they have consumed them.
            let oldest = index - options.chunkWindow
            if r.shared ? index <= sharedFront + options.chunkWindow
                : index <= r.consumed + options.chunkWindow
                    && (oldest < 1 || !FileSystem.opens(FileSystem.join(receivers[i].dir, TransferLayout.chunkName(oldest)))) {
                do {
                    // A chunk in a receiver's own inbox is not fsynced: the receiver deletes it within the
                    // window, usually before it would reach the disk, and a chunk torn by a crash of the
                    // host that holds it is deleted by the receiver and published again (the torn-chunk
                    // rule, docs/transfer-protocol.md section 9a). A shared area's chunk was fsynced when
                    // it was staged. Its name is not: a chunk lost with its folder entry is published
                    // again from the receiver's ack.
                    try staged.commit(syncData: false, syncDirectory: false)
                    shareBytes += Int64(chunk.fileSize)
                    if staged.reusesFile { sparesReused += 1 }
                } catch {
                    throw TransferError.io(path: path, operation: "publish chunk", detail: String(describing: error))
                }
                return true
            }
            // A shared area waits on every recipient that reads it: any of them may be the one whose
            // next chunk was lost.
            for j in receivers[i].shared ? sharedMembers : [i] where try lostChunk(j, publishedBelow: index) { return false }
            if receivers[i].shared { try checkSharedExpiry() } else { try checkExpiry(i) }
            waiter.wait(timeout: options.pollInterval)
        }
    }

    /// Whether the chunk receiver `i` needs next was published before `index` but is neither in its
    /// folder nor acknowledged (the crash of the inbox's host lost its name, or someone deleted it).
    /// Then the stream starts again from the receiver's ack. The receiver writes its ack before it
    /// deletes a chunk, so an absent chunk followed by an unchanged ack means the chunk was lost.
    private mutating func lostChunk(_ i: Int, publishedBelow index: Int) throws -> Bool {
        let next = receivers[i].consumed + 1
        guard next < index, receivers[i].failure == nil, !receivers[i].complete,
              !FileSystem.opens(FileSystem.join(receivers[i].chunkDir, TransferLayout.chunkName(next))) else { return false }
        try refresh(i)
        guard receivers[i].consumed + 1 == next, receivers[i].failure == nil else {
            receivers[i].suspectedLoss = nil
            return false
        }
        // On a share the ack just read may be a cached older version: call the chunk lost only when it
        // has looked lost for a while (a few poll intervals, at least 2 s).
        let now = Syscall.realTime()
        guard let suspicion = receivers[i].suspectedLoss, suspicion.next == next else {
            receivers[i].suspectedLoss = (next, now)
            return false
        }
        let grace = max(2, 3 * Double(options.pollInterval.milliseconds) / 1000)
        guard now - suspicion.since >= grace else { return false }
        receivers[i].suspectedLoss = nil
        rewound = true
        return rewound
    }

    func checkExpiry(_ i: Int) throws {
        let idle = Syscall.realTime() - receivers[i].lastProgress
        if idle * 1000 > Double(options.expire.milliseconds) {
            throw TransferError.expired(inbox: receivers[i].inbox, transferID: id,
                                        idle: DurationText.format(.milliseconds(Int64(idle * 1000))))
        }
    }

    /// Writes the final record into every active inbox and waits for the acks; false when a receiver
    /// rewound its ack meanwhile.
    private mutating func finish(chain: DigestChain, signingKey: TransferSigningKey?) throws -> Bool {
        var record = TransferFinalRecord(chunkCount: plan.chunks.count, totalBytes: plan.streamSize,
                                         streamDigest: chain.hex,
                                         manifestSHA256: Hex.encode(Array(SHA256.hash(data: manifestBytes))),
                                         signature: nil)
        if let signingKey {
            record.signature = try signingKey.sign(record.signedMessage(version: version)).base64
        }
        let bytes = record.encoded()
        for i in active where !receivers[i].complete {
            let path = FileSystem.join(receivers[i].dir, TransferLayout.final)
            if !FileSystem.exists(path) {
                try TransferError.io({ try FileSystem.write(bytes, to: path) })
                shareBytes += Int64(bytes.count)
            }
        }
        while true {
            for i in receivers.indices { try refresh(i) }
            collectShared()
            if rewound { return false }
            let pending = active.filter { !receivers[$0].complete }
            if pending.isEmpty { break }
            for i in pending where try lostChunk(i, publishedBelow: plan.chunks.count + 1) { return false }
            for i in pending {
                if receivers[i].shared { dropIfIdle(i) } else { try checkExpiry(i) }
            }
            waiter.wait(timeout: options.pollInterval)
        }
        try closeArea()
        // The folders (manifest, final record, complete ack) stay: the receiver owns its inbox and
        // removes settled transfers once they have been idle for the expiry time.
        return true
    }
}

extension Array where Element == UInt8 {
    var base64: String { Data(self).base64EncodedString() }
}
