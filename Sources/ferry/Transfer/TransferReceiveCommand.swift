import ArgumentParser
import FerrySupport
import FerryTransfer
import Foundation

/// `ferry transfer receive INBOX OUT_DIR`: receives the transfers senders drop into an inbox.
struct TransferReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Receive the transfers written into an inbox folder and publish them in an output folder.",
        discussion: """
        Watches INBOX (inotify on local disks, polling every --poll otherwise, or only polling with \
        --polling-only for NFS/SMB shares whose changes inotify cannot see). Every chunk is verified \
        (SHA-256, transfer id, index, offset) before it is acknowledged and deleted; the output is written \
        under a temporary name in OUT_DIR and renamed into place only when the final record's stream \
        digest (and signature, with --trust) matches. Quantized transfers are restored to the source \
        dtypes. A tampered, truncated, duplicated, foreign or out-of-order chunk makes the receiver refuse \
        the transfer: it writes a `failed` record the sender reports, and publishes nothing.

        Sealed transfers are opened with the receiver's X25519 key, given with --key (a site workspace \
        or a private key file made by `ferry transfer keygen`). A workspace's key from before its last \
        `ferry site rotate-key` (keys/encryption.key.previous) is tried too, so a transfer sealed during \
        the rotation still opens; the report says when it was used. Unencrypted transfers are refused \
        unless --encryption none is given (debugging only).

        Killed at any point, the receiver continues every transfer from its last acknowledgement when \
        started again. Chunks are acknowledged once written; the output is fsynced every --checkpoint \
        bytes and before it is published, so after a crash of the whole host the transfer resumes from \
        the last checkpoint (the sender sends the rest again). Transfers idle for --expire are deleted \
        (with their partial output).

        On a share a directory listing may lag by a cache period (sshfs 20 s, NFS up to 60 s), so new \
        transfers are found through each sender's announcement file, read by name: name the senders \
        with --from (a sender's name is its host name unless set).

        Without --once the receiver runs until interrupted, printing one line per transfer. With --once \
        it exits after the first transfer is published (status 0) or refused (status 1).

        Examples:
          ferry transfer receive /mnt/share/site-1/inbox models/ --key site-1/
          ferry transfer receive inbox out --key receiver.key --once
          ferry transfer receive /mnt/nfs/inbox out --key r.key --trust server.pub
        """
    )

    @Argument(help: ArgumentHelp("The inbox folder senders write into.", valueName: "INBOX"))
    var inbox: String

    @Argument(help: ArgumentHelp("Where received files are published.", valueName: "OUT_DIR"))
    var outputDirectory: String

    @Flag(help: "Exit after the first transfer is published (0) or refused (1).")
    var once = false

    @OptionGroup var common: TransferCommonOptions

    @Option(help: ArgumentHelp("Accept only transfers signed by this Ed25519 public key file (repeatable).",
                               valueName: "PATH"))
    var trust: [String] = []

    @Option(help: ArgumentHelp(
        "A sender whose announcements are read by name on every pass (repeatable; default: this host's name, which `ferry transfer send` uses). Transfers of other senders are found by the inbox sweep (every pass with inotify, every minute with --polling-only).",
        valueName: "NAME"))
    var from: [String] = []

    @Option(help: ArgumentHelp("This receiver's X25519 key: a site workspace or a private key file.",
                               valueName: "WORKSPACE_OR_KEY"))
    var key: String?

    @Option(help: ArgumentHelp("Fsync the output every SIZE of stream (what a host crash can cost).",
                               valueName: "SIZE"))
    var checkpoint: String = "256MiB"

    func validate() throws {
        guard try TransferCommonOptions.size(checkpoint, flag: "--checkpoint") >= 1 else {
            throw ValidationError("--checkpoint must be at least 1 B")
        }
    }

    func run() async throws {
        var options = try common.options()
        options.checkpointInterval = try TransferCommonOptions.size(checkpoint, flag: "--checkpoint")
        options.expectedSenders = from.isEmpty ? [Syscall.hostName()] : from
        var keys: [TransferPublicKey] = []
        for path in trust { keys.append(try TransferPublicKey.load(path: path)) }
        let decryptionKey = try key.map(TransferKeyArguments.decryptionKey)
        if decryptionKey == nil, options.encryption == .sealed {
            throw ValidationError("give this receiver's encryption key with --key (a site workspace or a key file made by `ferry transfer keygen`); --encryption none accepts unencrypted transfers only, for debugging")
        }
        let displays = ReceiveDisplays(quiet: common.quiet)
        let receiver = TransferReceiver(inbox: inbox, outputDirectory: outputDirectory, options: options,
                                        trustedKeys: keys, decryptionKey: decryptionKey,
                                        previousDecryptionKey: try key.flatMap(TransferKeyArguments.previousDecryptionKey),
                                        progress: { displays.update($0) })
        let start = ContinuousClock.now
        var refused = false
        try receiver.run { pass in
            for done in pass.completed {
                let elapsed = displays.finish(done.transferID) ?? (ContinuousClock.now - start)
                print(TransferReport.received(done, elapsed: elapsed))
                fflush(nil)
            }
            for failed in pass.failed {
                displays.finish(failed.transferID)
                StandardError.write("ferry: refused transfer \(failed.transferID) from \(failed.sender ?? "unknown sender"): \(failed.reason)\n")
                refused = true
            }
            for id in pass.expired { StandardError.write("ferry: removed expired transfer \(id)\n") }
            return once && (!pass.completed.isEmpty || !pass.failed.isEmpty)
        }
        if refused { throw FerryExit.failure }
    }
}
