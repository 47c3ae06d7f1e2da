import ArgumentParser
import FerryRuntime
import FerrySupport
import FerryWorkspace
import Foundation

/// `ferry download ID -o DIR`: copy a job's results out of the job store.
struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Copy a job's final model, metrics, round records and logs into a folder.",
        discussion: """
        Creates DIR (it must not exist, or be empty) and copies, when present: final.safetensors (from \
        models/), metrics.json, state.json, meta.json, rounds/*.json and logs/*.log; for a cross-site-eval \
        job also the site × model matrix cross_site_eval.json, and writes it as cross_site_eval.csv (one \
        row per site and model: site, model, status, num_samples, each metric, error). --all-models copies \
        every file of models/ (the global model of each round too, kept when the server app says \
        `keep: rounds`; otherwise only the final model stays) into DIR/models/ instead of only the \
        final model. Files are copied in pieces and written atomically. What is missing (for instance no \
        final model because the job failed) is listed, not fatal.

        Examples:
          ferry download 20261125-190501-ab12cd -o results/run-1
          ferry download 20261125-19 -o results/run-1 --all-models
        """
    )

    @OptionGroup var id: JobIDArgument
    @OptionGroup var workspace: WorkspaceOption

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The folder to create.", valueName: "DIR"))
    var output: String

    @Flag(name: .customLong("all-models"), help: "Copy every global model, not only the final one.")
    var allModels = false

    func run() async throws {
        let job = try workspace.store().record(id: id.id)
        let fm = FileManager.default
        if fm.fileExists(atPath: output) {
            let contents = (try? fm.contentsOfDirectory(atPath: output)) ?? ["?"]
            guard contents.isEmpty else {
                throw ValidationError("'\(output)' exists and is not an empty folder; give a new folder with -o")
            }
        }
        try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
        let plan = DownloadPlan(job: job.paths, allModels: allModels)
        var copied: [String] = []
        var total: Int64 = 0
        for (source, target) in plan.files() {
            total += try Self.copy(source, to: (output as NSString).appendingPathComponent(target))
            copied.append(target)
        }
        if let matrix = CrossSiteEvalMatrix.read(jobDirectory: job.paths.directory) {
            let csv = Data(matrix.csv.utf8)
            try AtomicFile.write(csv, to: (output as NSString).appendingPathComponent(CrossSiteEvalMatrix.csvFileName))
            copied.append(CrossSiteEvalMatrix.csvFileName)
            total += Int64(csv.count)
        }
        for target in copied { print(target) }
        let missing = plan.missing()
        StandardError.write("copied \(copied.count) files (\(ByteCount.format(total))) of job \(job.id) into \(output)\n")
        if !missing.isEmpty {
            StandardError.write("not present (\(job.state.state.rawValue)): \(missing.joined(separator: ", "))\n")
        }
    }

    /// Copies `source` to `target` in 1 MiB pieces through an atomic writer; returns the bytes copied.
    static func copy(_ source: String, to target: String) throws -> Int64 {
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        guard let input = FileHandle(forReadingAtPath: source) else {
            throw WorkspaceError.io(path: source, operation: "read", reason: "cannot open the file")
        }
        defer { try? input.close() }
        let writer = try AtomicFileWriter(destination: target)
        do {
            while let piece = try input.read(upToCount: 1 << 20), !piece.isEmpty { try writer.write(piece) }
            try writer.commit()
        } catch {
            writer.abort()
            throw error
        }
        return writer.bytesWritten
    }
}

/// Which files of a job folder `ferry download` copies, and where they go in the output folder.
struct DownloadPlan {
    let job: JobPaths
    let allModels: Bool

    private func listing(_ directory: String, suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { !$0.hasPrefix(".") && $0.hasSuffix(suffix) }.sorted()
    }

    private func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// (source, path relative to the output folder) of every file present.
    func files() -> [(String, String)] {
        var list: [(String, String)] = []
        if allModels {
            for name in listing(job.modelsDirectory, suffix: "") { list.append((FileSystem.join(job.modelsDirectory, name), "models/" + name)) }
        } else {
            list.append((job.finalModel, "final.safetensors"))
        }
        list += [(job.metrics, "metrics.json"), (job.state, "state.json"), (job.meta, "meta.json"),
                 (FileSystem.join(job.directory, CrossSiteEvalMatrix.fileName), CrossSiteEvalMatrix.fileName)]
        for name in listing(job.roundsDirectory, suffix: ".json") { list.append((FileSystem.join(job.roundsDirectory, name), "rounds/" + name)) }
        for name in listing(job.logsDirectory, suffix: ".log") { list.append((FileSystem.join(job.logsDirectory, name), "logs/" + name)) }
        return list.filter { isFile($0.0) }
    }

    /// The expected pieces that are absent.
    func missing() -> [String] {
        var names: [String] = []
        if !isFile(job.finalModel) { names.append("final.safetensors") }
        if !isFile(job.metrics) { names.append("metrics.json") }
        if listing(job.roundsDirectory, suffix: ".json").isEmpty { names.append("rounds/") }
        if listing(job.logsDirectory, suffix: ".log").isEmpty { names.append("logs/") }
        return names
    }
}
