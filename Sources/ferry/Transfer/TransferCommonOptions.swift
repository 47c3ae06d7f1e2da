import ArgumentParser
import FerrySupport
import FerryTransfer

/// Options shared by `ferry transfer send` and `ferry transfer receive`.
struct TransferCommonOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How often folders are polled when nothing wakes the process earlier (ms, s, m).",
                               valueName: "DURATION"))
    var poll: String = "200ms"

    @Flag(name: .customLong("polling-only"), help: "Never use inotify (NFS/SMB shares written by other hosts).")
    var pollingOnly = false

    @Option(help: ArgumentHelp("Abandon a transfer after this long without progress.", valueName: "DURATION"))
    var expire: String = "1h"

    @Flag(help: "No progress display (the final summary is still printed).")
    var quiet = false

    @Option(help: ArgumentHelp(
        "sealed (default): end-to-end encrypted to the recipients' keys. none: unencrypted, for debugging only; a receiver accepts it only with --encryption none too.",
        valueName: "sealed|none"))
    var encryption: TransferEncryptionMode = .sealed

    /// The transfer options these flags describe.
    func options() throws -> TransferOptions {
        var options = TransferOptions()
        options.pollInterval = try Self.duration(poll, flag: "--poll")
        options.pollingOnly = pollingOnly
        options.expire = try Self.duration(expire, flag: "--expire")
        options.encryption = encryption
        if encryption == .none {
            StandardError.write("ferry: WARNING: --encryption none: transfers are NOT encrypted; anyone who can read the share can read them (debugging only)\n")
        }
        return options
    }

    static func duration(_ text: String, flag: String) throws -> Duration {
        do { return try DurationText.parse(text) } catch {
            throw ValidationError("\(flag) \(text): \(error) (examples: 200ms, 5s, 1h)")
        }
    }

    static func size(_ text: String, flag: String) throws -> Int64 {
        do { return try ByteCount.parse(text) } catch {
            throw ValidationError("\(flag) \(text): \(error) (examples: 64KiB, 8MiB, 1GiB)")
        }
    }
}
