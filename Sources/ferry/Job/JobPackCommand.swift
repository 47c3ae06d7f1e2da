import ArgumentParser
import FerryArchive
import FerryJobs
import FerrySupport
import Foundation

/// `ferry job pack DIR [-o FILE] [--format tar.gz|tar.zst|zip]`: validates a job folder and writes
/// a reproducible archive of it.
struct JobPackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Validate a job folder and pack it into a reproducible archive.",
        discussion: """
        The job is validated first (as `ferry job validate` does); nothing is written when it has errors. \
        The archive holds the manifest `.ferry-manifest.json` (every folder, and every file with its size \
        and SHA-256) followed by every folder and file sorted by path, with fixed times, owners and modes, \
        so the same folder always gives byte-identical archives. VCS folders (.git, .hg, .svn), .DS_Store, \
        __pycache__ and editor temporaries are left out; symbolic links and special files are refused.

        The archive is written atomically (a temporary file renamed into place). Standard output gets one \
        line in `sha256sum` format, `SHA256  FILE`, so `ferry job pack … | sha256sum -c` checks it; \
        a summary goes to standard error.

        The format comes from --format, else from the extension of -o, else tar.gz. Without -o the \
        archive is written to the current folder as NAME.tar.gz (NAME from job.yaml).

        Examples:
          ferry job pack jobs/hello-fedavg
          ferry job pack jobs/hello-fedavg -o /tmp/hello.tar.zst
          ferry job pack jobs/hello-fedavg --format zip -o hello.zip
        """
    )

    @Argument(help: ArgumentHelp("The job folder (holding job.yaml).", valueName: "DIR"))
    var directory: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The archive to write (replaced if it exists).", valueName: "FILE"))
    var output: String?

    @Option(help: ArgumentHelp("Archive format: tar.gz, tar.zst or zip.", valueName: "FORMAT"))
    var format: ArchiveFormat?

    @Flag(name: .shortAndLong, help: "Print no progress and no summary, only the SHA-256 line.")
    var quiet = false

    func validate() throws {
        if let format, let output, let suggested = ArchiveFormat.guess(fromFileName: output), suggested != format {
            throw ValidationError("--format \(format.rawValue) does not match the extension of '\(output)'; "
                                  + "use a \(format.fileExtension) file name or drop --format")
        }
    }

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("'\(directory)' is not a folder; give the job folder that holds job.yaml")
        }
        let job: JobFolder
        do {
            job = try JobFolder.load(directory: directory)
        } catch {
            StandardError.write(error.description + "\n")
            let count = error.diagnostics.count
            StandardError.write("\(count) error\(count == 1 ? "" : "s") in \(directory); nothing was packed\n")
            throw FerryExit.failure
        }
        let chosen = format ?? output.flatMap(ArchiveFormat.guess(fromFileName:)) ?? .tarGz
        let destination = output ?? job.definition.name + chosen.fileExtension

        let display = LazyProgress(label: "pack \(job.definition.name)", quiet: quiet)
        let result = try JobArchive.pack(directory: directory, to: destination, format: chosen) { done, total in
            display.update(done, total: total)
        }
        display.finish()
        if !quiet {
            let contents = result.manifest.totalFileBytes
            StandardError.write("packed \(job.definition.name): \(result.manifest.files.count) files "
                                + "(\(ByteCount.format(contents))) → \(destination) "
                                + "(\(ByteCount.format(result.bytes)), \(chosen.rawValue))\n")
        }
        print("\(result.sha256)  \(destination)")
    }
}

extension ArchiveFormat: ExpressibleByArgument {}

/// A progress display that appears only for work big enough to need one (16 MiB or more).
final class LazyProgress {
    private let label: String
    private let quiet: Bool
    private var display: ProgressDisplay?

    init(label: String, quiet: Bool) {
        self.label = label
        self.quiet = quiet
    }

    func update(_ done: Int64, total: Int64) {
        guard !quiet else { return }
        if display == nil, total >= 16 << 20 { display = ProgressDisplay(label: label, total: total) }
        display?.update(done)
    }

    func finish() { display?.finish() }
}
