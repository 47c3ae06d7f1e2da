import FerryRuntime
import FerryTensors
import FerryWorkspace
import Foundation
import Testing

/// Temporary folders, job folders and local federations for the runtime tests.
enum RT {
    /// A fresh temporary folder (the caller removes it).
    static func temporaryDirectory(_ label: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-rt-\(label)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The built `ferry` binary (beside the test bundle; `ferry-example-trainer` sits next to it).
    static let ferryBinary: String = {
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("ferry").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ferry").path
    }()

    /// How long a test waits for a federation before it gives up: a failsafe against a hang, never a
    /// synchronisation (on a loaded 2-core machine a job that takes 2 s alone can take a minute).
    static let failsafe: Duration = .seconds(300)

    /// The server app's settings of a test job. The round timeout (like the executor timeout of
    /// ``writeJob(in:name:server:command:env:timeout:files:deploy:)``) cannot fire in a test that is not
    /// about timeouts, however slow the machine.
    struct Server {
        var workflow = "fedavg"
        var rounds = 2
        var roundTimeout = "1h"
        var minClients = 2
        var extra = ""
    }

    /// Writes a job folder `dir/name` whose client app runs `command` with `env`; `files` are written into
    /// the client app folder (relative path → contents).
    @discardableResult
    static func writeJob(in dir: String, name: String, server: Server = Server(), command: [String],
                         env: [String: String] = [:], timeout: String = "1h", files: [String: String] = [:],
                         deploy: String = "all") throws -> String {
        let job = dir + "/" + name
        try FileManager.default.createDirectory(atPath: job + "/apps/server", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: job + "/apps/client", withIntermediateDirectories: true)
        try """
        name: \(name)
        min_clients: \(server.minClients)
        deploy:
          server: [server]
          client: \(deploy)

        """.write(toFile: job + "/job.yaml", atomically: true, encoding: .utf8)
        try """
        workflow: \(server.workflow)
        rounds: \(server.rounds)
        round_timeout: \(server.roundTimeout)
        min_clients: \(server.minClients)
        \(server.extra)

        """.write(toFile: job + "/apps/server/app.yaml", atomically: true, encoding: .utf8)
        let quoted = command.map { "\"\($0)\"" }.joined(separator: ", ")
        var client = "executor:\n  command: [\(quoted)]\n  timeout: \(timeout)\n"
        if !env.isEmpty {
            client += "  env:\n"
            for (k, v) in env.sorted(by: { $0.key < $1.key }) { client += "    \(k): \"\(v)\"\n" }
        }
        try client.write(toFile: job + "/apps/client/app.yaml", atomically: true, encoding: .utf8)
        for (path, contents) in files {
            let full = job + "/apps/client/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try contents.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return job
    }

    /// The example trainer's command with the contract's placeholders.
    static let trainer = ["ferry-example-trainer", "--input", "{input_model}", "--output", "{output_model}",
                          "--result", "{result}", "--site", "{site}", "--round", "{round}"]

    /// A trainer wrapper that appends `SITE ROUND` to `trace` before running the example trainer.
    static func tracingTrainer(trace: String) -> (command: [String], files: [String: String]) {
        let script = """
        echo "$FERRY_SITE $FERRY_ROUND" >> '\(trace)'
        exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"

        """
        return (["sh", "trace.sh"], ["trace.sh": script])
    }

    /// A provisioned federation under `dir` with its watchers started as child processes.
    static func federation(in dir: String, clients: Int = 2, pollingOnly: Bool = false, maxJobs: Int = 4,
                           start: Bool = true) throws -> LocalFederation {
        let federation = try LocalFederation.prepare(directory: dir + "/fed", clients: clients)
        if start { try startWatchers(federation, pollingOnly: pollingOnly, maxJobs: maxJobs) }
        return federation
    }

    /// Starts the watchers of `federation` with short polls.
    static func startWatchers(_ federation: LocalFederation, pollingOnly: Bool = false, maxJobs: Int = 4) throws {
        var arguments = ["--poll", "100ms", "--max-jobs", String(maxJobs)]
        if pollingOnly { arguments.append("--polling-only") }
        try federation.start(binary: ferryBinary, arguments: arguments)
    }

    /// Waits until `condition` holds for job `id`, or the failsafe `timeout` passes (then the last run is
    /// returned as is).
    static func wait(_ federation: LocalFederation, _ id: String, timeout: Duration = failsafe,
                     until condition: (JobRun) -> Bool) throws -> JobRun {
        let deadline = ContinuousClock.now + timeout
        while true {
            let run = try federation.run(id)
            if condition(run) || ContinuousClock.now >= deadline { return run }
            if let dead = federation.deadWatcher {
                Issue.record("watcher \(dead.site) died: \(dead.outputTail())")
                return run
            }
            usleep(50_000)
        }
    }

    /// Waits until job `id` has finished.
    static func waitFinished(_ federation: LocalFederation, _ id: String, timeout: Duration = failsafe) throws -> JobRun {
        try wait(federation, id, timeout: timeout) { $0.state.state.isFinished }
    }

    /// Writes a safetensors model of F32 tensors.
    static func writeModel(_ path: String, tensors: [(String, [Float])]) throws {
        let writer = try SafetensorsWriter(path: path, tensors: tensors.map { TensorSpec(name: $0.0, dtype: .f32, shape: [$0.1.count]) })
        for (_, values) in tensors { try writer.append(contentsOf: values) }
        try writer.commit()
    }

    /// Runs `tool arguments` to its end; its exit status and its standard output and error together.
    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The lines of a trace file.
    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

extension Tag {
    /// Tests that start `ferry watch` (or `ferry poc`) child processes; they mostly wait, so they run in parallel.
    @Tag static var spawnsProcesses: Self
}
