import ArgumentParser
import FerrySupport
import FerryWorkspace
import Foundation
import Synchronization

/// `ferry submit JOB_DIR|ARCHIVE [--workspace W]`: validate, pack, sign and store a job.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Validate, pack, sign and store a job in the server's job store; print its id.",
        discussion: """
        The job (a folder holding job.yaml, or a job archive: .tar.gz, .tar.zst, .zip) is validated, checked \
        against the federation (every site of its deploy map must exist, and it must deploy to at least \
        min_clients clients), packed reproducibly into jobs/<id>/job.tar.gz, signed with the server's key \
        (job.sig) and put into the job store atomically in state `submitted`. The server's watcher \
        (`ferry watch`) picks it up from there.

        Large files are kept beside the archive, never compressed: the server app's initial_model and every \
        file larger than --large-file-threshold (default 16MiB) go to jobs/<id>/files/, covered by the \
        signed files.json. At deployment a client receives, by the chunked transfer, only the large files \
        of its own app folder.

        The job id is printed on standard output, one line per job, so scripts can capture it; everything \
        else goes to standard error. A folder without job.yaml whose sub-folders are jobs (a sweep made \
        from a template) submits each of them, in name order. Exit status 1 if any job is refused.

        Examples:
          ferry submit jobs/hello-fedavg
          id=$(ferry submit hello-fedavg.tar.gz --workspace workspaces/demo/server)
          ferry submit sweeps/lr-sweep/          # every job folder in it
        """
    )

    @Argument(help: ArgumentHelp("A job folder, a job archive, or a folder of job folders.", valueName: "JOB_DIR|ARCHIVE"))
    var path: String

    @OptionGroup var workspace: WorkspaceOption

    @Option(name: .customLong("large-file-threshold"), help: ArgumentHelp(
        "Keep files larger than this beside the archive (B, KiB, MiB, GiB).", valueName: "SIZE"))
    var largeFileThreshold: String = "16MiB"

    func run() async throws {
        let threshold = try TransferCommonOptions.size(largeFileThreshold, flag: "--large-file-threshold")
        let store = try workspace.store()
        let targets = JobStore.submissionTargets(path)
        guard !targets.isEmpty else {
            if FileManager.default.fileExists(atPath: path) {
                throw ValidationError("'\(path)' holds no job.yaml and no sub-folders with one; give a job folder, a job archive or a folder of job folders")
            }
            throw ValidationError("'\(path)' does not exist; give a job folder or a job archive")
        }
        var refused = 0
        var submitted: [String] = []
        for target in targets {
            do {
                let job = try store.submit(jobDirectoryOrArchive: target, largeFileThreshold: threshold,
                                           progress: PackProgress.callback(label: "pack \(target)"))
                print(job.id)
                submitted.append(job.id)
                StandardError.write("submitted \(job.name) as \(job.id): \(job.meta.sites.joined(separator: ", ")); "
                    + "\(ByteCount.format(job.meta.archiveBytes)) signed by \(job.meta.signedBy)\n")
            } catch {
                refused += 1
                StandardError.write("ferry: \(error)\n")
            }
        }
        if targets.count > 1 {
            StandardError.write("\(targets.count - refused) of \(targets.count) jobs submitted\n")
        }
        if refused > 0 { throw FerryExit.failure }
        let id = submitted.count == 1 ? submitted[0] : "ID"
        StandardError.write("follow with: ferry status \(id), ferry logs \(id) --follow\n")
    }
}

/// Shows packing progress for large jobs (from 8 MiB on); small jobs pack silently.
final class PackProgress: Sendable {
    private let label: String
    private let display = Mutex<ProgressDisplay?>(nil)
    private static let threshold: Int64 = 8 << 20

    private init(label: String) { self.label = label }

    /// A callback for `JobStore.submit(progress:)`.
    static func callback(label: String) -> @Sendable (Int64, Int64) -> Void {
        let progress = PackProgress(label: label)
        return { done, total in progress.update(done, total) }
    }

    private func update(_ done: Int64, _ total: Int64) {
        guard total >= Self.threshold else { return }
        display.withLock { display in
            if display == nil { display = ProgressDisplay(label: label, total: total) }
            display?.update(done)
            if done >= total { display?.finish() }
        }
    }
}
