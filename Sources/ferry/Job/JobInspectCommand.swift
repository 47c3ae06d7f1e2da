import ArgumentParser
import FerryArchive
import FerryJobs
import FerrySupport

/// `ferry job inspect ARCHIVE`: what a job archive holds, and whether it verifies.
struct JobInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a job archive's job, apps, deploy map and files, and verify its manifest.",
        discussion: """
        Reads the whole archive without writing anything and runs every check of a safe unpack: the \
        manifest comes first, every entry is a plain file or folder with a safe relative path listed in \
        the manifest, every file has the listed size and SHA-256, nothing listed is missing, and the \
        limits hold. Then it prints the archive's SHA-256, the job's name, apps and deploy map (read \
        from job.yaml and apps/*/app.yaml inside the archive), and every file with its size (`x` marks \
        executables).

        Exit status 0 when the archive verifies, 1 when it does not (the reason is printed) or cannot \
        be read. Problems in the job's YAML are shown but do not change the exit status; \
        `ferry job validate ARCHIVE` checks the job itself.

        \(UnpackLimitOptions.helpText)

        Examples:
          ferry job inspect hello-fedavg.tar.gz
          ferry job inspect big-job.tar.zst --max-total-size 64GiB
        """
    )

    @Argument(help: ArgumentHelp("A job archive (tar.gz, tar.zst or zip).", valueName: "ARCHIVE"))
    var archive: String

    @OptionGroup(title: "Limits")
    var limitOptions: UnpackLimitOptions

    func run() async throws {
        let display = LazyProgress(label: "verify \(archive)", quiet: false)
        let inspection = try JobArchive.inspect(archive: archive, limits: limitOptions.limits) { done, total in
            display.update(done, total: total)
        }
        display.finish()
        var lines: [String] = []
        lines.append("archive:  \(archive) (\(ByteCount.format(inspection.bytes)); "
                     + "\(inspection.containerName), compression \(inspection.compressionName))")
        lines.append("sha256:   \(inspection.sha256)")
        if let manifest = inspection.manifest, inspection.verified {
            lines += jobLines(manifest)
            lines.append("files:    \(manifest.files.count) files in \(manifest.directories.count) folders, "
                         + "\(ByteCount.format(manifest.totalFileBytes))")
            let width = manifest.files.map { String($0.size).count }.max() ?? 1
            for file in manifest.files {
                let size = String(file.size)
                lines.append("  " + String(repeating: " ", count: width - size.count) + size
                             + (file.executable ? " x " : "   ") + file.path)
            }
        }
        print(lines.joined(separator: "\n"))
        if let problem = inspection.problem {
            print("manifest: NOT VERIFIED")
            StandardError.write("ferry: \(archive): \(problem)\n")
            throw FerryExit.failure
        }
        print("manifest: verified (every entry listed, every size and SHA-256 matches)")
    }

    /// Job name, apps and deploy map, read from the verified archive.
    private func jobLines(_ manifest: ArchiveManifest) -> [String] {
        let maxYAML = YAMLLimits.standard.maxFileBytes
        let definition: JobDefinition
        do {
            let bytes = try JobArchive.readFile("job.yaml", fromArchive: archive, maxBytes: maxYAML, limits: limitOptions.limits)
            definition = try JobYAML.decodeJob(bytes, file: archive + ":job.yaml")
        } catch {
            return ["job:      not a valid job (\(error)); run `ferry job validate \(archive)`"]
        }
        var lines = ["job:      \(definition.name)" + (definition.description.map { " — \($0)" } ?? ""),
                     "clients:  at least \(definition.minClients)"]
        let appNames = manifest.directories.filter { $0.hasPrefix("apps/") && !$0.dropFirst(5).contains("/") }
            .map { String($0.dropFirst(5)) }
        lines.append("apps:")
        for app in appNames {
            let file = "apps/\(app)/app.yaml"
            var text: String
            do {
                let bytes = try JobArchive.readFile(file, fromArchive: archive, maxBytes: maxYAML, limits: limitOptions.limits)
                switch try JobYAML.decodeApp(bytes, file: archive + ":" + file, jobMinClients: definition.minClients) {
                case .server(let server):
                    text = "server app: \(server.workflow.rawValue), \(server.rounds) round\(server.rounds == 1 ? "" : "s")"
                    if let q = server.filters.toClients { text += ", models to clients as \(q.rawValue)" }
                case .client(let client):
                    text = "client app: runs " + client.executor.command.joined(separator: " ")
                    if client.executor.launcher == .slurm { text += " through Slurm (sbatch)" }
                    if let gpus = client.resources?.gpus, gpus > 0 { text += ", \(gpus) GPU\(gpus == 1 ? "" : "s") per task" }
                    if let q = client.filters.toServer { text += "; updates to the server as \(q.rawValue)" }
                }
            } catch {
                text = "invalid app (\(error))"
            }
            lines.append("  \(app): \(text)")
        }
        lines.append("deploy:   " + definition.deploy.map { "\($0.app) → \($0.target)" }.joined(separator: ", "))
        return lines
    }
}
