import ArgumentParser
import FerryArchive
import FerryJobs
import FerrySupport
import Foundation

/// `ferry job validate DIR|ARCHIVE`: checks a job folder or archive against the job format.
struct JobValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a job folder or job archive against the job format.",
        discussion: """
        Reads job.yaml and every apps/<app>/app.yaml, checks every field's type and range, the deploy map \
        (exactly one server app on the site `server`, every deployed app has a folder, every folder is \
        deployed), the placeholders of executor commands and the app files they name. All errors of all \
        files are printed at once to stderr, one per line as FILE:LINE:COL: error: WHAT, each followed by a hint. Exit status 1 when \
        there are errors, 0 when the job is valid.

        An archive (made by `ferry job pack`) is unpacked safely into a temporary folder, validated, and \
        removed again.

        YAML files over 1 MiB, deeper than 64 levels, with scalars over 64 KiB or expanding past 100000 \
        nodes through aliases are refused. The format is described in docs/job-format.md.

        Examples:
          ferry job validate jobs/hello-fedavg
          ferry job validate hello-fedavg.tar.gz
        """
    )

    @Argument(help: ArgumentHelp("The job folder (holding job.yaml) or a job archive.", valueName: "DIR|ARCHIVE"))
    var path: String

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("'\(path)' does not exist; give a job folder or a job archive")
        }
        do {
            let job: JobFolder
            if isDirectory.boolValue {
                job = try JobFolder.load(directory: path)
            } else {
                job = try validateArchive()
            }
            print("ok: " + Self.summary(job))
        } catch let failure as JobValidationFailure {
            StandardError.write(failure.description + "\n")
            let count = failure.diagnostics.count
            StandardError.write("\(count) error\(count == 1 ? "" : "s") in \(path)\n")
            throw FerryExit.failure
        }
    }

    /// Unpacks the archive into a temporary folder and validates it there.
    private func validateArchive() throws -> JobFolder {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-validate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let directory = (scratch as NSString).appendingPathComponent("job")
        _ = try JobArchive.unpack(archive: path, into: directory)
        return try JobFolder.load(directory: directory, displayName: path)
    }

    /// `hello-fedavg: fedavg, 3 rounds, min 2 clients; server → [server], client → all`.
    static func summary(_ job: JobFolder) -> String {
        let server = job.serverApp
        let deploy = job.definition.deploy.map { "\($0.app) → \($0.target)" }.joined(separator: ", ")
        return "\(job.definition.name): \(server.workflow.rawValue), \(server.rounds) round\(server.rounds == 1 ? "" : "s"), "
            + "min \(server.minClients) client\(server.minClients == 1 ? "" : "s"); \(deploy)"
    }
}
