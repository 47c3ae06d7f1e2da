/// Where a client app's executor runs (`executor.launcher`).
public enum LauncherKind: String, Sendable, Equatable, CaseIterable, Codable {
    /// A child process of the watcher (the default).
    case local
    /// A Slurm batch job submitted with `sbatch` (docs/hpc.md).
    case slurm
}

/// What a client app asks of Slurm (`executor.slurm`); every field is optional and falls back to the
/// site's `slurm:` defaults in site.yaml, then to Slurm's own.
public struct SlurmRequest: Sendable, Equatable, Codable {
    /// `--partition`.
    public var partition: String?
    /// `--account`.
    public var account: String?
    /// `--time`: the job's limit in Slurm (default: `executor.timeout` plus a minute, rounded up to minutes).
    public var time: Duration?
    /// `--gpus` (also `resources.gpus` of the app).
    public var gpus: Int?
    /// `--cpus-per-task`.
    public var cpusPerTask: Int?
    /// `--mem` in bytes (also `resources.max_memory` of the app).
    public var mem: Int64?
    /// `--nodes`.
    public var nodes: Int?
    /// `--ntasks-per-node`.
    public var ntasksPerNode: Int?
    /// Further sbatch options, each one argument (e.g. `--qos=long`, `--constraint=a100`).
    public var extra: [String]

    /// Creates a request; every value is optional.
    public init(partition: String? = nil, account: String? = nil, time: Duration? = nil, gpus: Int? = nil,
                cpusPerTask: Int? = nil, mem: Int64? = nil, nodes: Int? = nil, ntasksPerNode: Int? = nil,
                extra: [String] = []) {
        self.partition = partition
        self.account = account
        self.time = time
        self.gpus = gpus
        self.cpusPerTask = cpusPerTask
        self.mem = mem
        self.nodes = nodes
        self.ntasksPerNode = ntasksPerNode
        self.extra = extra
    }
}

/// What one task of a client app needs (`resources:` in the client app.yaml).
public struct TaskResources: Sendable, Equatable, Codable {
    /// GPUs per task (local: that many devices in `CUDA_VISIBLE_DEVICES`; Slurm: `--gpus`).
    public var gpus: Int
    /// Most memory the executor may use, in bytes (local: the data limit, RLIMIT_DATA, of its processes;
    /// Slurm: `--mem`); nil: no limit.
    public var maxMemory: Int64?

    /// Creates a request.
    public init(gpus: Int = 0, maxMemory: Int64? = nil) {
        self.gpus = gpus
        self.maxMemory = maxMemory
    }
}
