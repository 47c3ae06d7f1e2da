import ArgumentParser
import FerryQuant
import FerrySupport
import FerryTransfer

/// `ferry transfer send FILE INBOX...`: streams a file into one or more inbox folders.
struct TransferSendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Stream a file or model chunk by chunk into one or more inbox folders.",
        discussion: """
        Sealed by default: every chunk is encrypted (AES-256-GCM, or ChaCha20-Poly1305 without AES \
        instructions) with a fresh content key, wrapped with HPKE for each recipient given with --to \
        (one per recipient: a site card, a site workspace, a public key file made by `ferry transfer \
        keygen`, or the key in base64). Only the holders of those keys can read the transfer. \
        --encryption none sends it in the clear, for debugging only (the receiver must allow it too).

        Writes a transfer into each INBOX: a manifest, numbered chunks published atomically (by default \
        at most 128MiB of unconsumed chunks per inbox; --window-bytes or --window chunks when given, \
        so the share never holds more than that per inbox), then a final record with the digest of the \
        whole stream. `ferry transfer receive` on each inbox verifies, acknowledges and deletes the \
        chunks. The command returns when every receiver has acknowledged the whole stream.

        The model is read (and quantized) once, whatever the number of inboxes. Killed at any point, \
        running the same command again resumes the transfer from the receivers' acknowledgements (the \
        resume state is a small `.ferry-send-*.json` file beside FILE, or in --state-dir).

        --share ROOT broadcasts once: when two or more inboxes lie below ROOT (the root of the share \
        that holds them), every chunk is written once into ROOT/.ferry-broadcast/<transfer-id>/ instead \
        of once per inbox, and deleted when every recipient has acknowledged it. Give one --to per \
        inbox, in the inboxes' order; every receiver must be able to read ROOT.

        --mode container cuts a safetensors model on tensor boundaries (small tensors grouped, large \
        ones split), so the receiver gets whole tensors early. --quantize quantizes on the way; the \
        receiver restores the source dtypes from the manifest without any option.

        Examples:
          ferry transfer send model.safetensors /mnt/share/site-1/inbox --to card.yaml
          ferry transfer send data.bin inbox --to receiver.key.pub
          ferry transfer send model.safetensors in-1 in-2 --to a.pub --to b.pub
          ferry transfer send m.safetensors inbox --to r.pub --quantize nf4
          ferry transfer send data.bin /mnt/nfs/inbox --to r.pub --polling-only
          ferry transfer send m.safetensors /mnt/s/a/inbox /mnt/s/b/inbox --to a.pub --to b.pub --share /mnt/s

        The protocol is described in docs/transfer-protocol.md.
        """
    )

    @Argument(help: ArgumentHelp("The file to send (a safetensors model for --mode container or --quantize).",
                                 valueName: "FILE"))
    var file: String

    @Argument(help: ArgumentHelp("One or more inbox folders (each watched by `ferry transfer receive`).",
                                 valueName: "INBOX"))
    var inboxes: [String]

    @Option(help: ArgumentHelp("file: fixed-size chunks; container: chunks cut on tensor boundaries.",
                               valueName: "file|container"))
    var mode: TransferMode = .file

    @Option(help: ArgumentHelp("Maximum chunk payload (B, KiB, MiB, GiB).", valueName: "SIZE"))
    var chunk: String = "\(TransferOptions.defaultChunkSize >> 20)MiB"

    @Option(help: ArgumentHelp("Maximum unconsumed chunks per inbox (instead of the default byte window).", valueName: "N"))
    var window: Int?

    @Option(name: .customLong("window-bytes"), help: ArgumentHelp(
        "Maximum unconsumed bytes per inbox (B, KiB, MiB, GiB); replaces --window by SIZE / chunk chunks. On a share, hold a cache period's worth of stream (docs/transfer-protocol.md, section 12). Default 128MiB when neither is given.",
        valueName: "SIZE"))
    var windowBytes: String?

    @Option(help: ArgumentHelp("Quantize on the way: \(QuantFormat.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "FORMAT"))
    var quantize: QuantFormat?

    @OptionGroup var common: TransferCommonOptions

    @Option(name: .customLong("sign-key"), help: ArgumentHelp(
        "Ed25519 private key file (32 raw bytes, hex or base64) that signs the final record.", valueName: "PATH"))
    var signKey: String?

    @Option(name: .customLong("to"), help: ArgumentHelp(
        "A recipient's X25519 key: site card, site workspace, public key file or base64 key (repeatable, one per recipient).",
        valueName: "KEY_OR_CARD"))
    var recipients: [String] = []

    @Option(name: .customLong("state-dir"), help: ArgumentHelp(
        "Where to keep the resume state (default: beside FILE).", valueName: "DIR"))
    var stateDirectory: String?

    @Option(help: ArgumentHelp(
        "Broadcast once: the root of the share holding the inboxes; chunks go once into ROOT/.ferry-broadcast/.",
        valueName: "ROOT"))
    var share: String?

    func run() async throws {
        var options = try common.options()
        options.mode = mode
        options.chunkSize = Int(try TransferCommonOptions.size(chunk, flag: "--chunk"))
        if let window { options.window = window }
        options.windowBytes = try windowBytes.map { try TransferCommonOptions.size($0, flag: "--window-bytes") }
        if window == nil && windowBytes == nil { options.windowBytes = TransferOptions.defaultWindowBytes }
        options.quantize = quantize
        options.stateDirectory = stateDirectory
        options.broadcastShare = share
        let key = try signKey.map { path throws(TransferError) in try TransferSigningKey.load(path: path) }
        let recipientKeys = try recipients.map(TransferKeyArguments.recipient)
        if options.encryption == .sealed, recipientKeys.isEmpty {
            throw ValidationError("give each recipient's encryption key with --to (a site card, workspace, key file or base64 key); --encryption none sends unencrypted, for debugging only")
        }
        let sender = TransferSender(source: file, inboxes: inboxes, options: options, signingKey: key,
                                    recipients: options.encryption == .sealed ? recipientKeys : [])
        let display = LazyProgress(label: "send \(file)", quiet: common.quiet, minimumTotal: 0)
        let summary = try sender.run { display.update($0.bytes, total: $0.totalBytes) }
        display.finish()
        print(TransferReport.sent(summary, file: file))
    }
}

extension TransferMode: ExpressibleByArgument {}
extension TransferEncryptionMode: ExpressibleByArgument {}
extension QuantFormat: ExpressibleByArgument {}
