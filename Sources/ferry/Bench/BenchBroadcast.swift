import FerrySupport
import FerryTransfer
import Foundation

/// `ferry bench transfer --recipients N`: one sealed broadcast to N inboxes on one share (broadcast
/// once, docs/transfer-protocol.md section 14), against the bytes and the time of one `cp` of the model.
/// The sender runs in this process (its summary counts every byte it writes to the share); each
/// receiver is a `ferry transfer receive --once` child process.
struct BenchBroadcast {
    let recipients: Int
    let options: TransferOptions
    let modelBytes: Int64

    /// What one broadcast did.
    struct Outcome {
        var wall: Duration
        var summary: TransferSummary
        var receiverRSS: Int64
    }

    /// Sends `model` once to `recipients` inboxes under `work/share`, receivers writing into `local`.
    func run(model: String, work: String, local: String) throws -> Outcome {
        let ferry = currentExecutablePath()
        let share = FileSystem.join(work, "share")
        var inboxes: [String] = []
        var keys: [TransferRecipientKey] = []
        var receivers: [MeasuredChild] = []
        var outs: [String] = []
        for k in 1...recipients {
            let inbox = FileSystem.join(share, "site-\(k)/inbox")
            let out = FileSystem.join(local, "out-\(k)")
            try FileSystem.makeDirectory(inbox)
            try FileSystem.makeDirectory(out)
            let key = TransferDecryptionKey.generate()
            let keyPath = FileSystem.join(work, "recipient-\(k).key")
            try key.save(path: keyPath)
            inboxes.append(inbox)
            outs.append(out)
            keys.append(key.publicKey)
        }
        var sendOptions = options
        sendOptions.broadcastShare = share
        sendOptions.stateDirectory = work
        sync()
        let start = ContinuousClock.now
        for k in 1...recipients {
            receivers.append(try MeasuredChild(
                executable: ferry,
                arguments: ["transfer", "receive", inboxes[k - 1], outs[k - 1], "--once", "--quiet",
                            "--key", FileSystem.join(work, "recipient-\(k).key")],
                logPath: FileSystem.join(work, "receive-\(k).log")))
        }
        let summary: TransferSummary
        do {
            summary = try TransferSender(source: model, inboxes: inboxes, options: sendOptions, recipients: keys).run()
        } catch {
            for r in receivers { kill(r.pid, SIGTERM); r.wait() }
            throw error
        }
        for r in receivers { r.wait() }
        let wall = ContinuousClock.now - start
        for (k, r) in receivers.enumerated() where r.status != 0 {
            throw BenchError.failed(command: "ferry transfer receive", status: r.status, log: FileSystem.join(work, "receive-\(k + 1).log"))
        }
        let name = (model as NSString).lastPathComponent
        for out in outs {
            let received = FileSystem.join(out, name)
            if options.quantize == nil {
                guard try BenchModelFile.identical(model, received) else { throw BenchError.mismatch(received) }
            }
            FileSystem.remove(out)
        }
        let leftover = FileSystem.list(FileSystem.join(share, ".ferry-broadcast"))
        guard leftover.isEmpty else { throw BenchError.mismatch("shared areas left behind: \(leftover.joined(separator: ", "))") }
        FileSystem.remove(share)
        return Outcome(wall: wall, summary: summary, receiverRSS: receivers.map(\.peakResidentBytes).max() ?? 0)
    }

    /// The report lines.
    func report(_ o: Outcome, cp: Duration) -> [String] {
        let ratio = Double(o.summary.shareBytesWritten) / Double(max(1, modelBytes))
        return [
            "broadcast once to \(recipients) inboxes on one share (sealed, \(o.summary.broadcastRecipients) reading one shared copy)",
            "  written to the share: \(ByteCount.format(o.summary.shareBytesWritten)) = \(formatFixed(ratio, 3))× the model "
                + "(one copy per inbox: \(recipients).000×)",
            "  wall \(DurationText.format(o.wall)) = \(formatFixed(o.wall.seconds / max(cp.seconds, 1e-9), 2))× cp of one copy; "
                + "peak RSS of a receiver \(ByteCount.format(o.receiverRSS)); every output "
                + (options.quantize == nil ? "byte-identical to the source" : "restored"),
        ]
    }
}
