import Crypto
import FerrySupport

/// Broadcast once (docs/transfer-protocol.md, section 14): the chunks of the receivers whose inboxes
/// lie on one share are written once into a shared area there; the sender deletes each chunk when
/// every one of those receivers has acknowledged it, and the area when all are settled.
extension SenderRun {
    /// Creates the shared area `area` with the manifest, points receiver `i` at it for every `i` with a
    /// relative area path, and writes each such inbox's signed record (before its manifest, so a
    /// receiver that finds the manifest finds the record). Removes areas abandoned under the same root.
    mutating func prepareArea(_ area: String, root: String, relative: [String?], recipients: [String],
                              signingKey: TransferSigningKey?) throws {
        self.area = area
        // Twice the expiry time: a live sender gives up on a silent receiver after one.
        BroadcastLayout.removeAbandoned(root: root, keep: id, idle: 2 * Double(options.expire.milliseconds) / 1000)
        try placeManifest(in: area)
        let digest = Hex.encode(Array(SHA256.hash(data: manifestBytes)))
        for i in receivers.indices {
            guard let path = relative[i] else { continue }
            receivers[i].shared = true
            receivers[i].chunkDir = area
            let dir = receivers[i].dir
            try TransferError.io({ try FileSystem.makeDirectory(dir) })
            let recordPath = FileSystem.join(dir, BroadcastLayout.record)
            // Written once: a resumed sender keeps the record the receiver may already have checked.
            if FileSystem.exists(recordPath) { continue }
            var record = BroadcastRecord(transferId: id, area: path, manifestSHA256: digest, recipient: recipients[i])
            if let signingKey { record.signature = try signingKey.sign(record.signedMessage).base64 }
            let bytes = record.encoded()
            try TransferError.io({ try FileSystem.write(bytes, to: recordPath) })
            shareBytes += Int64(bytes.count)
        }
    }

    /// The shared receivers still counted (not refused, not dropped).
    var sharedMembers: [Int] { receivers.indices.filter { receivers[$0].shared && receivers[$0].failure == nil } }

    /// The highest chunk a shared receiver has consumed: the shared area's window runs from there.
    var sharedFront: Int { sharedMembers.map { receivers[$0].consumed }.max() ?? 0 }

    /// Re-reads every shared receiver's ack and deletes the chunks all of them have consumed.
    mutating func refreshShared() throws {
        for i in sharedMembers { try refresh(i) }
        collectShared()
    }

    /// Deletes the shared chunks every shared receiver has consumed (by name: a listing may be stale).
    mutating func collectShared() {
        guard let area else { return }
        let members = sharedMembers
        guard !members.isEmpty else { return }
        let low = min(members.map { receivers[$0].consumed }.min() ?? 0, plan.chunks.count)
        // A receiver that rewound (its host crashed) needs chunks again: they are published anew.
        if low < areaCollected { areaCollected = low }
        guard low > areaCollected else { return }
        for k in (areaCollected + 1)...low { FileSystem.remove(FileSystem.join(area, TransferLayout.chunkName(k))) }
        areaCollected = low
    }

    /// The shared receivers hold the stream back only when none of them has progressed for the expiry
    /// time: then the send fails with "made no progress" (the state stays, so it can resume).
    func checkSharedExpiry() throws {
        let waiting = sharedMembers.filter { !receivers[$0].complete }
        guard let freshest = waiting.max(by: { receivers[$0].lastProgress < receivers[$1].lastProgress }) else { return }
        try checkExpiry(freshest)
    }

    /// Gives up on shared receiver `i` when its ack has not moved for the expiry time, so that it no
    /// longer pins the shared area: the others complete, the area is removed, and the send then fails
    /// for that inbox.
    mutating func dropIfIdle(_ i: Int) {
        let idle = Syscall.realTime() - receivers[i].lastProgress
        guard idle * 1000 > Double(options.expire.milliseconds) else { return }
        receivers[i].dropped = true
        receivers[i].failure = "no progress for \(DurationText.format(.milliseconds(Int64(idle * 1000)))); dropped from the broadcast"
    }

    /// Once every shared receiver is settled: removes the shared area, then reports a dropped receiver
    /// as expired.
    mutating func closeArea() throws {
        if let area { FileSystem.remove(area) }
        if let r = receivers.first(where: \.dropped) {
            let idle = Syscall.realTime() - r.lastProgress
            throw TransferError.expired(inbox: r.inbox, transferID: id, idle: DurationText.format(.milliseconds(Int64(idle * 1000))))
        }
    }
}
