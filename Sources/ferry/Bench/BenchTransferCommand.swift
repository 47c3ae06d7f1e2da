import ArgumentParser
import FerryQuant
import FerrySupport
import FerryTensors
import FerryTransfer
import Foundation
/// `ferry bench transfer`: sender and receiver as separate processes against `cp` of the same file.
struct BenchTransferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Time a transfer (sender and receiver processes) against cp of the same model; peak RSS of each side.",
        discussion: """
        Writes a synthetic f32 model (--size, or a real architecture with --like), then measures in the \
        same run, each after a sync: `cp MODEL COPY` (the baseline), `cp` followed by `sync COPY` (a \
        durable copy, which is what a receiver publishes), the SHA-256 of the model on one core (what \
        each side of a transfer must hash at least once: a floor that depends on the CPU), and `ferry transfer send` + \
        `ferry transfer receive --once` started together as two processes on an inbox in the same folder. \
        Wall time of the transfer runs from the start of both processes until both have exited; peak \
        RSS of each side comes from wait4. The received file is compared with the source (or, with \
        --quantize, checked for size). Each figure is the best of --repeat runs.

        The work folder (default: a new folder under the system temporary folder; --dir to measure on \
        a share) is removed at the end unless --keep. It needs about three times the model size free.

        With --peer-dir DIR2 (the same folder as --dir, mounted a second time, as another host would \
        see it), the model and the receiver's output stay on the local disk: the sender writes the \
        inbox through --dir, the receiver reads it through DIR2 (--polling-only, --poll 100ms), and the \
        baseline is `cp` onto the share through --dir plus `cp` off it through DIR2.

        With --recipients N (2 or more), the model is broadcast once to N inboxes on one share \
        (`ferry transfer send --share`): the sender runs in this process and counts every byte it \
        writes to the share (chunks, manifests, records), printed as a ratio of the model's bytes; \
        the N receivers are `ferry transfer receive --once` processes.

        Examples:
          ferry bench transfer                                  256 MiB, file mode
          ferry bench transfer --size 1GiB --mode container
          ferry bench transfer --like llama-3.2-1b --quantize nf4
          ferry bench transfer --size 1GiB --dir /mnt/nfs/scratch
          ferry bench transfer --like gpt2-small --dir /mnt/a/bench --peer-dir /mnt/b/bench
          ferry bench transfer --model llama.safetensors --mode container
          ferry bench transfer --size 1GiB --recipients 4
        """
    )

    @Option(help: ArgumentHelp("Size of the synthetic f32 model (ignored with --like).", valueName: "SIZE"))
    var size: String = "256MiB"

    @Option(help: ArgumentHelp("Use a real architecture instead: \(SyntheticModel.names.joined(separator: ", ")).",
                               valueName: "NAME"))
    var like: String?

    @Option(help: ArgumentHelp("Use this existing safetensors model (kept) instead of writing one.", valueName: "PATH"))
    var model: String?

    @Option(help: ArgumentHelp("Work folder (default: a new temporary folder).", valueName: "DIR"))
    var dir: String?

    @Option(name: .customLong("peer-dir"), help: ArgumentHelp(
        "The --dir folder seen through another mount of the same share: the sender writes through --dir, the receiver reads through this one.",
        valueName: "DIR2"))
    var peerDir: String?

    @Option(help: ArgumentHelp("Transfer mode.", valueName: "file|container"))
    var mode: TransferMode = .file

    @Option(help: ArgumentHelp("Quantize on the way.", valueName: "FORMAT"))
    var quantize: QuantFormat?

    @Option(help: ArgumentHelp("Chunk size.", valueName: "SIZE"))
    var chunk: String = "\(TransferOptions.defaultChunkSize >> 20)MiB"

    @Option(help: ArgumentHelp("Window in chunks (default: the send's default byte window).", valueName: "N"))
    var window: Int?

    @Option(name: .customLong("window-bytes"), help: ArgumentHelp("Window in bytes (default 128MiB).", valueName: "SIZE"))
    var windowBytes: String?

    @Option(help: ArgumentHelp("sealed (default): end-to-end encrypted, as transfers are by default; none: unencrypted (debugging).",
                               valueName: "sealed|none"))
    var encryption: TransferEncryptionMode = .sealed

    @Option(help: ArgumentHelp("Broadcast once to this many inboxes on one share (2 or more; sealed).", valueName: "N"))
    var recipients: Int = 1

    @Option(help: "Runs per measurement; the best one counts.")
    var `repeat`: Int = 1

    @Flag(help: "Keep the work folder.")
    var keep = false

    func validate() throws {
        if let like, SyntheticModel.named(like) == nil {
            throw ValidationError("--like \(like): unknown architecture; use one of \(SyntheticModel.names.joined(separator: ", "))")
        }
        let bytes = try TransferCommonOptions.size(size, flag: "--size")
        guard bytes >= 1 << 20 else { throw ValidationError("--size must be at least 1MiB") }
        _ = try TransferCommonOptions.size(chunk, flag: "--chunk")
        if let windowBytes { _ = try TransferCommonOptions.size(windowBytes, flag: "--window-bytes") }
        if peerDir != nil, dir == nil { throw ValidationError("--peer-dir needs --dir (the same folder through the sender's mount)") }
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard recipients >= 1, recipients <= 64 else { throw ValidationError("--recipients must be between 1 and 64") }
        if recipients > 1, peerDir != nil || encryption == .none {
            throw ValidationError("--recipients broadcasts sealed on one folder: drop --peer-dir and --encryption none")
        }
    }

    /// The window as the send gets it.
    private var windowText: String {
        if let windowBytes { return windowBytes }
        if let window { return "\(window) chunks" }
        return ByteCount.format(TransferOptions.defaultWindowBytes) + " (default)"
    }

    func run() async throws {
        let work = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("ferry-bench-transfer-\(UUID().uuidString)").path
        for sub in ["", "/inbox", "/out"] {
            try FileManager.default.createDirectory(atPath: work + sub, withIntermediateDirectories: true)
        }
        // With a peer mount the model and the output are on the local disk, as on two hosts.
        let local = peerDir == nil ? work
            : FileManager.default.temporaryDirectory.appendingPathComponent("ferry-bench-local-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: FileSystem.join(local, "out"), withIntermediateDirectories: true)
        defer {
            if !keep { try? FileManager.default.removeItem(atPath: work) }
            if local != work { try? FileManager.default.removeItem(atPath: local) }
        }
        let model = self.model ?? FileSystem.join(local, "model.safetensors")
        let description = try self.model.map { "\(($0 as NSString).lastPathComponent) (given)" } ?? writeModel(model)
        let modelBytes = fileSize(model)
        print("model: \(description), \(ByteCount.format(modelBytes)); mode \(mode.rawValue), chunk \(chunk), "
              + "window \(windowText)" + (quantize.map { ", quantize \($0.rawValue)" } ?? "") + "; folder \(work)")

        if let peerDir {
            try reportThroughPeer(model: model, modelBytes: modelBytes, work: work, peer: peerDir, local: local)
            return
        }
        let cp = try best { try timeCopy(model, to: FileSystem.join(work, "copy.safetensors"), durable: false) }
        let cpSync = try best { try timeCopy(model, to: FileSystem.join(work, "copy.safetensors"), durable: true) }
        let hash = try best { () throws -> Duration in
            let start = ContinuousClock.now
            _ = try FileSHA256.digest(of: model)
            return ContinuousClock.now - start
        }
        if recipients > 1 {
            var options = TransferOptions()
            options.mode = mode
            options.chunkSize = Int(try TransferCommonOptions.size(chunk, flag: "--chunk"))
            if let window { options.window = window }
            options.windowBytes = try windowBytes.map { try TransferCommonOptions.size($0, flag: "--window-bytes") }
                ?? (window == nil ? TransferOptions.defaultWindowBytes : nil)
            options.quantize = quantize
            let bench = BenchBroadcast(recipients: recipients, options: options, modelBytes: modelBytes)
            var outcome = try bench.run(model: model, work: work, local: local)
            for _ in 1..<`repeat` {
                let next = try bench.run(model: model, work: work, local: local)
                if next.wall < outcome.wall { outcome = next }
            }
            print("cp".padding(30) + DurationText.format(cp).leftPadding(10))
            for line in bench.report(outcome, cp: cp) { print(line) }
            return
        }
        let transfer = try best { try timeTransfer(model: model, work: work) }
        let rate = { (d: Duration) in ByteCount.format(Int64(Double(modelBytes) / max(d.seconds, 1e-9))) + "/s" }
        print("run".padding(30) + "wall".leftPadding(10) + "rate".leftPadding(14) + "× cp".leftPadding(8))
        print("cp".padding(30) + DurationText.format(cp).leftPadding(10) + rate(cp).leftPadding(14) + "1.00".leftPadding(8))
        print("cp + sync (durable copy)".padding(30) + DurationText.format(cpSync).leftPadding(10) + rate(cpSync).leftPadding(14)
              + formatFixed(cpSync.seconds / cp.seconds, 2).leftPadding(8))
        print("SHA-256 of the model, 1 core".padding(30) + DurationText.format(hash).leftPadding(10) + rate(hash).leftPadding(14)
              + formatFixed(hash.seconds / cp.seconds, 2).leftPadding(8))
        print("ferry transfer send+receive".padding(30) + DurationText.format(transfer.wall).leftPadding(10)
              + rate(transfer.wall).leftPadding(14) + formatFixed(transfer.wall.seconds / cp.seconds, 2).leftPadding(8))
        print("  peak RSS sender \(ByteCount.format(transfer.senderRSS)), receiver \(ByteCount.format(transfer.receiverRSS)); "
              + "on the wire \(ByteCount.format(transfer.wire)) (\(formatFixed(Double(transfer.wire) / Double(modelBytes) * 100, 1)) % of the model)")
        print("  \(transfer.sealing); written to the share \(ByteCount.format(transfer.shareBytes)) "
              + "(\(formatFixed(Double(transfer.shareBytes) / Double(modelBytes), 3))× the model)")
        print("  output: \(transfer.check)")
    }

    /// The --peer-dir run: `cp` onto the share through one mount plus `cp` off it through the other,
    /// against the transfer sent through the first mount and received through the second.
    private func reportThroughPeer(model: String, modelBytes: Int64, work: String, peer: String, local: String) throws {
        let onto = FileSystem.join(work, "copy.safetensors")
        let back = FileSystem.join(local, "copy.safetensors")
        let copies = try best { () throws -> Duration in
            let up = try timeCopy(model, to: onto, durable: false, keep: true)
            let down = try timeCopy(FileSystem.join(peer, "copy.safetensors"), to: back, durable: false)
            try? FileManager.default.removeItem(atPath: onto)
            return up + down
        }
        let transfer = try best {
            try timeTransfer(model: model, work: work, receiveInbox: FileSystem.join(peer, "inbox"),
                             out: FileSystem.join(local, "out"), pollingOnly: true)
        }
        let rate = { (d: Duration) in ByteCount.format(Int64(Double(modelBytes) / max(d.seconds, 1e-9))) + "/s" }
        print("run".padding(36) + "wall".leftPadding(10) + "rate".leftPadding(14) + "× cp".leftPadding(8))
        print("cp onto the share + cp off it".padding(36) + DurationText.format(copies).leftPadding(10)
              + rate(copies).leftPadding(14) + "1.00".leftPadding(8))
        print("ferry transfer send+receive".padding(36) + DurationText.format(transfer.wall).leftPadding(10)
              + rate(transfer.wall).leftPadding(14) + formatFixed(transfer.wall.seconds / copies.seconds, 2).leftPadding(8))
        print("  sent through \(work), received through \(peer)")
        print("  peak RSS sender \(ByteCount.format(transfer.senderRSS)), receiver \(ByteCount.format(transfer.receiverRSS)); "
              + "on the wire \(ByteCount.format(transfer.wire)) (\(formatFixed(Double(transfer.wire) / Double(modelBytes) * 100, 1)) % of the model)")
        print("  \(transfer.sealing); written to the share \(ByteCount.format(transfer.shareBytes)) "
              + "(\(formatFixed(Double(transfer.shareBytes) / Double(modelBytes), 3))× the model)")
        print("  output: \(transfer.check)")
    }

    /// Creates the model and returns a one-line description.
    private func writeModel(_ path: String) throws -> String {
        if let like, let synthetic = SyntheticModel.named(like) {
            let display = ProgressDisplay(label: "synth \(like)", total: synthetic.dataByteCount)
            try synthetic.write(to: path) { display.update($0) }
            display.finish()
            return "\(like) (synthetic, \(synthetic.tensors.count) tensors)"
        }
        let total = try ByteCount.parse(size)
        let count = try BenchModelFile.write(path: path, bytes: total)
        return "synthetic f32, \(count) tensors"
    }

    private func best<T: Comparable>(_ run: () throws -> T) throws -> T {
        var result = try run()
        for _ in 1..<`repeat` { result = min(result, try run()) }
        return result
    }

    /// Times `cp SOURCE COPY`, followed by `sync COPY` (fsync of the copy) when `durable`.
    private func timeCopy(_ source: String, to copy: String, durable: Bool, keep: Bool = false) throws -> Duration {
        sync()
        let start = ContinuousClock.now
        let child = try MeasuredChild(executable: "/bin/cp", arguments: [source, copy], logPath: "/dev/null")
        child.wait()
        guard child.status == 0 else { throw BenchError.failed(command: "cp", status: child.status, log: "/dev/null") }
        if durable {
            let flush = try MeasuredChild(executable: "/bin/sync", arguments: [copy], logPath: "/dev/null")
            flush.wait()
            guard flush.status == 0 else { throw BenchError.failed(command: "sync", status: flush.status, log: "/dev/null") }
        }
        let wall = ContinuousClock.now - start
        if !keep { try? FileManager.default.removeItem(atPath: copy) }
        return wall
    }

    private func timeTransfer(model: String, work: String, receiveInbox: String? = nil, out outDir: String? = nil,
                              pollingOnly: Bool = false) throws -> TransferRun {
        let ferry = currentExecutablePath()
        let outDir = outDir ?? FileSystem.join(work, "out")
        let out = FileSystem.join(outDir, (model as NSString).lastPathComponent)
        try? FileManager.default.removeItem(atPath: out)
        var send = ["transfer", "send", model, FileSystem.join(work, "inbox"), "--quiet", "--mode", mode.rawValue,
                    "--chunk", chunk, "--state-dir", work]
        if let window { send += ["--window", String(window)] }
        if let windowBytes { send += ["--window-bytes", windowBytes] }
        if let quantize { send += ["--quantize", quantize.rawValue] }
        var receive = ["transfer", "receive", receiveInbox ?? FileSystem.join(work, "inbox"), outDir, "--once", "--quiet"]
        switch encryption {
        case .sealed:
            let key = FileSystem.join(work, "bench-receiver.key")
            if !FileSystem.exists(key) {
                let made = try MeasuredChild(executable: ferry, arguments: ["transfer", "keygen", key], logPath: "/dev/null")
                made.wait()
                guard made.status == 0 else { throw BenchError.failed(command: "ferry transfer keygen", status: made.status, log: "/dev/null") }
            }
            send += ["--to", key + ".pub"]
            receive += ["--key", key]
        case .none:
            send += ["--encryption", "none"]
            receive += ["--encryption", "none"]
        }
        if pollingOnly {
            send += ["--polling-only", "--poll", "100ms"]
            receive += ["--polling-only", "--poll", "100ms"]
        }
        sync()
        let start = ContinuousClock.now
        let receiver = try MeasuredChild(executable: ferry, arguments: receive, logPath: FileSystem.join(work, "receive.log"))
        let sender = try MeasuredChild(executable: ferry, arguments: send, logPath: FileSystem.join(work, "send.log"))
        sender.wait()
        receiver.wait()
        let wall = max(sender.ended!, receiver.ended!) - start
        guard sender.status == 0 else { throw BenchError.failed(command: "ferry transfer send", status: sender.status, log: FileSystem.join(work, "send.log")) }
        guard receiver.status == 0 else { throw BenchError.failed(command: "ferry transfer receive", status: receiver.status, log: FileSystem.join(work, "receive.log")) }
        let (wire, shareBytes, aead) = try wireBytes(log: FileSystem.join(work, "receive.log"))
        let check: String
        if quantize == nil {
            guard try BenchModelFile.identical(model, out) else { throw BenchError.mismatch(out) }
            check = "byte-identical to the source"
        } else {
            let restored = try SafetensorsReader(path: out).header
            let original = try SafetensorsReader(path: model).header
            guard restored.tensors.map(\.dtype) == original.tensors.map(\.dtype),
                  restored.tensors.map(\.shape) == original.tensors.map(\.shape) else {
                throw BenchError.mismatch("tensor dtypes or shapes differ")
            }
            check = "restored to the source dtypes and shapes (\(ByteCount.format(fileSize(out))))"
        }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: FileSystem.join(work, "inbox"))) ?? [] {
            try? FileManager.default.removeItem(atPath: FileSystem.join(work, "inbox/") + file)
        }
        try? FileManager.default.removeItem(atPath: out)
        return TransferRun(wall: wall, senderRSS: sender.peakResidentBytes, receiverRSS: receiver.peakResidentBytes,
                           wire: wire, shareBytes: shareBytes, sealing: aead.map { "sealed, \($0.rawValue)" } ?? "UNENCRYPTED (encryption none)",
                           check: check)
    }

    /// The stream size, the bytes the sender wrote to the share (every chunk file: header, info and
    /// payload; the manifest, final record and ack add a few KiB) and the AEAD, from the manifest left
    /// in the inbox.
    private func wireBytes(log: String) throws -> (stream: Int64, share: Int64, aead: TransferAEAD?) {
        let inbox = FileSystem.join((log as NSString).deletingLastPathComponent, "inbox")
        for id in (try? FileManager.default.contentsOfDirectory(atPath: inbox)) ?? [] {
            if let data = FileManager.default.contents(atPath: FileSystem.join(inbox, id, "manifest.json")),
               let manifest = try? JSONDecoder().decode(TransferManifest.self, from: data) {
                let infos: Int64 = manifest.mode == .container ? Int64(manifest.chunkCount) * 256 : 0
                return (manifest.streamSize, manifest.streamSize + Int64(manifest.chunkCount) * 88 + infos, manifest.encryption?.aead)
            }
        }
        return (0, 0, nil)
    }
}

/// One measured transfer; ordered by wall time.
struct TransferRun: Comparable {
    var wall: Duration
    var senderRSS: Int64
    var receiverRSS: Int64
    var wire: Int64
    /// Bytes written to the share: every chunk file (one inbox).
    var shareBytes: Int64
    /// `sealed, <aead>` or `UNENCRYPTED …`.
    var sealing: String
    var check: String
    static func < (a: TransferRun, b: TransferRun) -> Bool { a.wall < b.wall }
}

/// Size of the file at `path` (0 when absent).
func fileSize(_ path: String) -> Int64 {
    var st = stat()
    return stat(path, &st) == 0 ? Int64(st.st_size) : 0
}
