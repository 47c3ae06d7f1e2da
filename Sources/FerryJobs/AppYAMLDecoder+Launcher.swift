import Yams

/// `executor.launcher`, `executor.slurm`, `executor.queue_timeout` and the app's `resources:`.
extension AppYAMLDecoder {
    static let slurmKeys = ["partition", "account", "time", "gpus", "cpus_per_task", "mem", "nodes", "ntasks_per_node", "extra"]
    static let resourceKeys = ["gpus", "max_memory"]

    func decodeLauncher(_ e: FieldReader, into config: inout ExecutorConfig) {
        config.launcher = e.choice("launcher", LauncherKind.self) ?? .local
        config.queueTimeout = e.duration("queue_timeout", range: Self.timeoutRange)
        if let s = e.nested("slurm") {
            s.checkKeys(Self.slurmKeys)
            var request = SlurmRequest()
            request.partition = s.string("partition")
            request.account = s.string("account")
            request.time = s.duration("time", range: .seconds(60) ... .seconds(365 * 86_400))
            request.gpus = s.int("gpus", range: 0...1024)
            request.cpusPerTask = s.int("cpus_per_task", range: 1...4096)
            request.mem = s.size("mem", range: 1 << 20 ... 1 << 50)
            request.nodes = s.int("nodes", range: 1...10_000)
            request.ntasksPerNode = s.int("ntasks_per_node", range: 1...1024)
            request.extra = decodeExtra(s)
            config.slurm = request
        }
        if config.launcher == .local {
            for key in ["slurm", "queue_timeout"] where e.keyMark(key) != nil {
                context.error("'executor.\(key)' applies only to `launcher: slurm`", at: e.keyMark(key),
                              hint: "add `launcher: slurm` to the executor, or remove '\(key)'")
            }
        }
    }

    private func decodeExtra(_ s: FieldReader) -> [String] {
        guard let node = s.value("extra") else { return [] }
        guard case .sequence(let items) = node else {
            context.error("'executor.slurm.extra' must be a list of sbatch options, found \(FieldReader.describe(node))",
                          at: node.mark, hint: "write e.g. `extra: [\"--qos=long\", \"--constraint=a100\"]`")
            return []
        }
        var extra: [String] = []
        for item in items {
            guard let text = item.scalar?.string, text.hasPrefix("-"), !text.contains("\n") else {
                context.error("each entry of 'executor.slurm.extra' must be one sbatch option starting with '-', found \(FieldReader.describe(item))",
                              at: item.mark, hint: "write the option and its value as one entry, e.g. \"--qos=long\"")
                continue
            }
            extra.append(text)
        }
        return extra
    }

    func decodeResources(_ top: FieldReader) -> TaskResources? {
        guard let r = top.nested("resources") else { return nil }
        r.checkKeys(Self.resourceKeys)
        return TaskResources(gpus: r.int("gpus", range: 0...1024) ?? 0,
                             maxMemory: r.size("max_memory", range: 1 << 20 ... 1 << 50))
    }
}
