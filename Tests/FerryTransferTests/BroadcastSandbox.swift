import FerrySupport
import Foundation
import Testing
@testable import FerryTransfer

/// A share with `n` recipients' inboxes (`share/site-k/inbox`), their output folders and keys, for
/// broadcast-once tests (docs/transfer-protocol.md, section 14).
struct BroadcastSandbox {
    let box: TransferSandbox
    let share: String
    let inboxes: [String]
    let outs: [String]
    let keys: [TransferDecryptionKey]

    init(recipients n: Int) throws {
        let box = try TransferSandbox()
        self.box = box
        share = try box.folder("share")
        inboxes = try (1...n).map { try box.folder("share/site-\($0)/inbox") }
        outs = try (1...n).map { try box.folder("out-\($0)") }
        keys = (1...n).map { _ in TransferDecryptionKey.generate() }
    }

    /// The shared areas' parent folder.
    var areas: String { share + "/" + BroadcastLayout.folder }

    /// Options that broadcast through the share.
    func options(chunk: Int = 10_000, window: Int = 2) -> TransferOptions {
        var options = testOptions(chunk: chunk, window: window)
        options.broadcastShare = share
        return options
    }

    /// Starts a sender of `source` to every inbox, sealed to every key in order.
    func send(_ source: String, options: TransferOptions, signingKey: TransferSigningKey? = nil) -> BackgroundSender {
        BackgroundSender(TransferSender(source: source, inboxes: inboxes, options: options, signingKey: signingKey,
                                        recipients: keys.map(\.publicKey)))
    }

    /// A receiver for recipient `k` (0-based).
    func receiver(_ k: Int, options: TransferOptions = testOptions(), trusting: [TransferPublicKey] = [],
                  key: TransferDecryptionKey? = nil,
                  progress: (@Sendable (TransferProgress) -> Void)? = nil) -> TransferReceiver {
        TransferReceiver(inbox: inboxes[k], outputDirectory: outs[k], options: options, trustedKeys: trusting,
                         decryptionKey: key ?? keys[k], progress: progress)
    }

    /// A receiver for recipient `k` whose pass ends after its `n`th chunk however fast the sender publishes:
    /// the area's chunks n + 1 … `last` are renamed away then (``revealChunks(_:in:)`` puts them back).
    func receiver(_ k: Int, stoppingAfter n: Int, area: String, last: Int) -> TransferReceiver {
        receiver(k) { p in
            guard p.chunks == n else { return }
            for i in (n + 1)...last { _ = rename(area + "/" + TransferLayout.chunkName(i), area + "/hidden-\(i)") }
        }
    }

    /// Puts back the chunks a ``receiver(_:stoppingAfter:area:last:)`` hid.
    func revealChunks(_ range: ClosedRange<Int>, in area: String) {
        for i in range { _ = rename(area + "/hidden-\(i)", area + "/" + TransferLayout.chunkName(i)) }
    }

    /// The transfer folder in inbox `k`, once its manifest is there.
    func transferFolder(_ k: Int) throws -> String {
        var dir: String?
        try #require(eventually {
            dir = box.transferFolders(in: inboxes[k]).first
            return dir.map { FileManager.default.fileExists(atPath: $0 + "/manifest.json") } ?? false
        })
        return try #require(dir)
    }

    /// The shared area of the transfer whose inbox folder is `dir`.
    func area(of dir: String) -> String { areas + "/" + (dir as NSString).lastPathComponent }

    /// The chunk files present in `dir`, looked up by name from 1 to `count`.
    func chunksPresent(in dir: String, count: Int) -> [Int] {
        (1...count).filter { FileSystem.opens(dir + "/" + TransferLayout.chunkName($0)) }
    }

    /// The highest chunk inbox `k`'s ack has consumed (0 without an ack).
    func consumed(_ k: Int, dir: String) -> Int {
        let path = FileSystem.join(FileSystem.join(inboxes[k], (dir as NSString).lastPathComponent), TransferLayout.ack)
        return ((try? FileSystem.readIfPresent(path)).flatMap { $0 }.flatMap(TransferAck.decode))?.consumed ?? 0
    }
}

/// Polls `receivers` in turn, `pause` apart, until each has completed one transfer (the failsafe
/// `seconds` at most); a refusal is a test failure. Index k holds receiver k's transfer, nil if none.
func receiveEach(_ receivers: [TransferReceiver], seconds: Double = failsafeSeconds,
                 pause: useconds_t = 2_000) throws -> [ReceivedTransfer?] {
    var done = [ReceivedTransfer?](repeating: nil, count: receivers.count)
    let deadline = Date().addingTimeInterval(seconds)
    while done.contains(where: { $0 == nil }), Date() < deadline {
        for (k, receiver) in receivers.enumerated() where done[k] == nil {
            let pass = try receiver.poll()
            #expect(pass.failed.isEmpty, "\(pass.failed)")
            done[k] = pass.completed.first
        }
        usleep(pause)
    }
    return done
}
