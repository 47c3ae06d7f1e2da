import ArgumentParser
import FerryArchive
import FerrySupport

/// `ferry job unpack ARCHIVE DIR`: the safe extraction every deploy step uses.
struct JobUnpackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Safely unpack a job archive into a new folder.",
        discussion: """
        DIR must not exist, or be an empty folder; its parent must exist. The archive is extracted into a \
        hidden folder beside DIR (.DIR.unpack-XXXXXX) and renamed to DIR only when every check passed, so \
        a refused or broken archive leaves nothing behind, and nothing is ever written outside DIR.

        Refused (exit status 1, with the reason): paths with `..`, absolute paths, symbolic links, \
        hardlinks, devices, FIFOs and sockets; entries not listed in the archive's manifest, listed \
        entries that are missing, duplicates, files whose size or SHA-256 differs from the manifest \
        (tampered or truncated archives); and archives past the limits below (zip bombs). Files get \
        mode 0644, or 0755 when packed executable; folders 0755. Times and owners are not restored.

        \(UnpackLimitOptions.helpText)

        Examples:
          ferry job unpack hello-fedavg.tar.gz /tmp/hello
          ferry job unpack llm.tar.zst work/llm --max-total-size 64GiB
        """
    )

    @Argument(help: ArgumentHelp("A job archive (tar.gz, tar.zst or zip).", valueName: "ARCHIVE"))
    var archive: String

    @Argument(help: ArgumentHelp("The folder to create (absent or empty).", valueName: "DIR"))
    var directory: String

    @OptionGroup(title: "Limits")
    var limitOptions: UnpackLimitOptions

    @Flag(name: .shortAndLong, help: "Print no progress and no summary.")
    var quiet = false

    func run() async throws {
        let display = LazyProgress(label: "unpack \(archive)", quiet: quiet)
        let manifest = try JobArchive.unpack(archive: archive, into: directory, limits: limitOptions.limits) { done, total in
            display.update(done, total: total)
        }
        display.finish()
        if !quiet {
            print("unpacked \(manifest.files.count) files (\(ByteCount.format(manifest.totalFileBytes))) "
                  + "in \(manifest.directories.count) folders into \(directory)")
        }
    }
}
