import ArgumentParser
import FerrySupport
import FerryTensors
import Foundation

/// `ferry bench federation`: a whole local federation (`ferry poc`) of a FedAvg job whose clients run
/// a Python executor, timed and with the peak memory of every process of the federation summed.
struct BenchFederationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "federation",
        abstract: "Time a whole FedAvg federation (ferry poc, Python clients) and its peak memory, against cp of the model.",
        discussion: """
        The job is the one a user of NVFlare's simulator would compare with (NVFlare's NumpyFedAvgRecipe \
        with initial_ckpt and the numpy Client API): a synthetic model (--like, f32) as the initial model, \
        --clients clients whose executor is a Python script that loads the global model with safetensors, \
        adds a constant to every float tensor and saves it, and --rounds rounds of FedAvg without \
        quantization. The command runs `ferry poc` on it in a scratch folder and reports the wall time \
        (submission and the job itself), and the peak of the summed resident memory of every process of \
        the federation (watchers, transfers, executors), sampled from /proc every 100 ms.

        The baseline, measured in the same run, is `cp` + `sync` of the model: the time and the disk work \
        of one durable copy. A FedAvg round moves the model 2 × --clients times at least, so "× cp" \
        shows how far the whole run is from that floor. Needs python3 with numpy and safetensors \
        (scripts/ensure-deps.sh installs them).

        For reference, issue 13 measured NVFlare 2.9's simulator on this kind of machine (2 cores) with \
        the default job (gpt2-small, 2 clients, 3 rounds): 66 s and about 9.5 GiB. Figures and commands: \
        docs/benchmarks.md.

        Examples:
          ferry bench federation
          ferry bench federation --like tiny-mlp --rounds 2
          ferry bench federation --like gpt2-small --clients 2 --rounds 3 --scratch /data/bench --keep
        """
    )

    @Option(help: ArgumentHelp("Synthetic architecture of the model (\(SyntheticModel.names.joined(separator: ", "))).",
                               valueName: "name"))
    var like: String = "gpt2-small"

    @Option(help: "Number of client sites.")
    var clients: Int = 2

    @Option(help: "FedAvg rounds.")
    var rounds: Int = 3

    @Option(help: "The Python interpreter of the clients' executor.")
    var python: String = "python3"

    @Option(help: ArgumentHelp("Scratch folder (default: a new folder in the temporary directory).", valueName: "dir"))
    var scratch: String?

    @Flag(help: "Keep the scratch folder (job, federation, logs) instead of removing it.")
    var keep = false

    func validate() throws {
        guard SyntheticModel.named(like) != nil else {
            throw ValidationError("--like \(like): unknown architecture; use one of \(SyntheticModel.names.joined(separator: ", "))")
        }
        guard (1...64).contains(clients) else { throw ValidationError("--clients must be 1 to 64") }
        guard (1...1000).contains(rounds) else { throw ValidationError("--rounds must be 1 to 1000") }
    }

    func run() async throws {
        try checkPython()
        let work = scratch ?? FileSystem.join(NSTemporaryDirectory(), "ferry-bench-federation-\(UUID().uuidString.prefix(8))")
        try FileSystem.makeDirectory(work)
        defer { if !keep && scratch == nil { FileSystem.remove(work) } }
        let job = FileSystem.join(work, "job")
        let model = FileSystem.join(job, "models/initial.safetensors")
        try writeJob(at: job)
        print("writing the initial model (\(like), f32)…")
        try SyntheticModel.named(like)!.write(to: model, seed: 1)
        let modelBytes = FileSystem.size(model)

        let cp = try timeDurableCopy(model, to: FileSystem.join(work, "copy.safetensors"))
        print("running the federation: \(clients) clients, \(rounds) rounds, model \(ByteCount.format(modelBytes))…")
        let log = FileSystem.join(work, "poc.log")
        sync()
        let start = ContinuousClock.now
        let child = try MeasuredChild(executable: currentExecutablePath(),
                                      arguments: ["poc", job, "--clients", String(clients),
                                                  "--workspace", FileSystem.join(work, "federation"), "--timeout", "2h"],
                                      logPath: log)
        let memory = ProcessTreeMemory(root: child.pid)
        child.wait()
        let wall = ContinuousClock.now - start
        let peak = memory.stop()
        guard child.status == 0 else { throw BenchError.failed(command: "ferry poc", status: child.status, log: log) }

        print("")
        print("run".padding(34) + "wall".leftPadding(10) + "× cp+sync".leftPadding(11) + "peak memory".leftPadding(14))
        print("cp + sync of the model".padding(34) + DurationText.format(cp).leftPadding(10) + "1.00".leftPadding(11)
              + "-".leftPadding(14))
        let memoryText = ProcessTreeMemory.isAvailable ? ByteCount.format(peak) : "n/a"
        print("ferry poc (\(clients) clients, \(rounds) rounds)".padding(34) + DurationText.format(wall).leftPadding(10)
              + String(format: "%.1f", wall / cp).leftPadding(11) + memoryText.leftPadding(14))
        print("")
        print("model \(ByteCount.format(modelBytes)); peak memory = \(ProcessTreeMemory.isAvailable ? String(format: "%.1f", Double(peak) / Double(max(modelBytes, 1))) : "n/a") × the model")
        print("the federation's own summary: \(log)\(keep || scratch != nil ? "" : " (removed with the scratch folder; use --keep)")")
    }

    private func checkPython() throws {
        let probe = try MeasuredChild(executable: "/usr/bin/env",
                                      arguments: [python, "-c", "import numpy, safetensors.numpy"], logPath: "/dev/null")
        probe.wait()
        guard probe.status == 0 else {
            throw BenchError.io("\(python) cannot import numpy and safetensors: install them (python3 -m pip install numpy safetensors, or scripts/ensure-deps.sh)")
        }
    }

    private func writeJob(at job: String) throws {
        try FileSystem.makeDirectory(FileSystem.join(job, "apps/server"))
        try FileSystem.makeDirectory(FileSystem.join(job, "apps/client/custom"))
        try FileSystem.makeDirectory(FileSystem.join(job, "models"))
        try FileSystem.write(Array("""
            name: bench-federation
            description: "ferry bench federation: FedAvg of a \(like) model, Python clients that add a constant"
            min_clients: \(clients)
            deploy:
              server: [server]
              client: all

            """.utf8), to: FileSystem.join(job, "job.yaml"))
        try FileSystem.write(Array("""
            workflow: fedavg
            rounds: \(rounds)
            round_timeout: 1h
            min_clients: \(clients)
            initial_model: models/initial.safetensors
            transfer:
              mode: container

            """.utf8), to: FileSystem.join(job, "apps/server/app.yaml"))
        try FileSystem.write(Array("""
            executor:
              command: [\(python), custom/add.py, "{input_model}", "{output_model}", "{result}"]
              timeout: 1h
            transfer:
              mode: container

            """.utf8), to: FileSystem.join(job, "apps/client/app.yaml"))
        try FileSystem.write(Array(Self.script.utf8), to: FileSystem.join(job, "apps/client/custom/add.py"))
    }

    /// The client: what a numpy Client API trainer does with a model, and nothing more.
    static let script = """
        import json, sys
        import numpy as np
        from safetensors.numpy import load_file, save_file

        source, target, result = sys.argv[1], sys.argv[2], sys.argv[3]
        tensors = load_file(source)
        for name, value in tensors.items():
            if np.issubdtype(value.dtype, np.floating):
                tensors[name] = value + np.asarray(0.01, dtype=value.dtype)
        save_file(tensors, target)
        with open(result, "w") as f:
            json.dump({"num_samples": 100, "metrics": {"delta": 0.01}}, f)

        """

    private func timeDurableCopy(_ source: String, to copy: String) throws -> Duration {
        sync()
        let start = ContinuousClock.now
        for (tool, arguments) in [("/bin/cp", [source, copy]), ("/bin/sync", [copy])] {
            let child = try MeasuredChild(executable: tool, arguments: arguments, logPath: "/dev/null")
            child.wait()
            guard child.status == 0 else { throw BenchError.failed(command: tool, status: child.status, log: "/dev/null") }
        }
        let wall = ContinuousClock.now - start
        FileSystem.remove(copy)
        return wall
    }
}
