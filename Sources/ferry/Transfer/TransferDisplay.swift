import FerrySupport
import FerryTransfer
import Foundation

/// One progress display per transfer the receiver is working on. The receiver calls back from the
/// thread running its passes; the lock keeps the displays consistent anyway.
final class ReceiveDisplays: @unchecked Sendable {
    private let quiet: Bool
    private let lock = NSLock()
    private var displays: [String: ProgressDisplay] = [:]

    init(quiet: Bool) { self.quiet = quiet }

    func update(_ progress: TransferProgress) {
        lock.withLock {
            let display = displays[progress.transferID] ?? ProgressDisplay(
                label: "receive \(progress.transferID.prefix(8))", total: progress.totalBytes, quiet: quiet)
            displays[progress.transferID] = display
            display.update(progress.bytes)
        }
    }

    /// Ends the display of transfer `id`; returns how long it was shown (nil when it never was).
    @discardableResult
    func finish(_ id: String) -> Duration? {
        lock.withLock {
            guard let display = displays.removeValue(forKey: id) else { return nil }
            display.finish()
            return display.elapsed
        }
    }
}

/// The summaries printed when a transfer ends.
enum TransferReport {
    static func sent(_ s: TransferSummary, file: String) -> String {
        let inboxes = s.receivers == 1 ? "1 inbox" : "\(s.receivers) inboxes"
        var text = "sent \(file) to \(inboxes): transfer \(s.transferID)"
        text += s.sealed ? " (sealed)\n" : " (UNENCRYPTED: encryption none, for debugging only)\n"
        text += "  on the wire: \(ByteCount.format(s.streamBytes)) per receiver (\(percent(s.ratio)) of \(ByteCount.format(s.sourceBytes))), "
        text += "\(s.chunkCount) chunk\(s.chunkCount == 1 ? "" : "s"), \(ByteCount.format(s.wireBytesWritten)) written in this run\n"
        if s.broadcastRecipients > 0 {
            let ratio = s.streamBytes > 0 ? Double(s.shareBytesWritten) / Double(s.streamBytes) : 0
            text += "  broadcast once to \(s.broadcastRecipients) inboxes: \(ByteCount.format(s.shareBytesWritten)) written to the share "
            text += "(\(formatFixed(ratio, 3))× the stream)\n"
        }
        text += "  wall time \(DurationText.format(s.elapsed)), source read \(s.sourcePasses)×, "
        text += "peak memory \(ByteCount.format(ProcessStats.peakResidentBytes))"
        if s.resumed { text += ", resumed" }
        return text
    }

    static func received(_ r: ReceivedTransfer, elapsed: Duration) -> String {
        let ratio = r.sourceBytes > 0 ? Double(r.streamBytes) / Double(r.sourceBytes) : 1
        let filters = r.filters.compactMap(\.quantize)
        var text = "received \(r.outputPath) from \(r.sender): transfer \(r.transferID)"
        if r.signed { text += " (signed)" }
        text += r.sealed ? " (sealed)" : " (UNENCRYPTED: encryption none)"
        if r.openedWithPreviousKey { text += " (opened with the previous encryption key, keys/encryption.key.previous)" }
        text += "\n  on the wire: \(ByteCount.format(r.streamBytes)) (\(percent(ratio)) of \(ByteCount.format(r.sourceBytes)))"
        if !filters.isEmpty { text += ", restored from \(filters.joined(separator: "+"))" }
        text += ", output \(ByteCount.format(r.outputBytes))\n"
        if r.damagedChunksResent > 0 {
            text += "  \(r.damagedChunksResent) chunk file\(r.damagedChunksResent == 1 ? "" : "s") arrived torn (a crash of the host that held "
            text += "\(r.damagedChunksResent == 1 ? "it" : "them")?) and \(r.damagedChunksResent == 1 ? "was" : "were") sent again\n"
        }
        text += "  wall time \(DurationText.format(elapsed)), peak memory \(ByteCount.format(ProcessStats.peakResidentBytes))"
        return text
    }

    static func percent(_ ratio: Double) -> String { formatFixed(ratio * 100, 1) + " %" }
}
