import FerrySupport

/// `resources:` of site.yaml: what this site has for its tasks (docs/hpc.md). Set by the operator;
/// provisioning keeps it.
public struct SiteResources: Codable, Sendable, Equatable {
    /// GPUs of this machine that ferry hands to local executors (devices 0…gpus-1); nil: none declared.
    public var gpus: Int?
    /// Memory a task may ask for (`resources.max_memory`), as a size text such as `200GiB`; nil: no limit.
    public var memory: String?

    /// Creates a declaration.
    public init(gpus: Int? = nil, memory: String? = nil) {
        self.gpus = gpus
        self.memory = memory
    }
}

/// `slurm:` of site.yaml: the site's defaults for Slurm tasks and the most they may ask for. A job's
/// `executor.slurm` values override the defaults; a job asking for more than a limit is refused here.
public struct SiteSlurm: Codable, Sendable, Equatable {
    /// Default `--partition`.
    public var partition: String?
    /// Default `--account`.
    public var account: String?
    /// Default `--time` (a duration text, e.g. `4h`).
    public var time: String?
    /// sbatch options added to every job (before the job's own `extra`).
    public var extra: [String]?
    /// Longest `--time` a job may ask for.
    public var maxTime: String?
    /// Most `--gpus` a job may ask for.
    public var maxGpus: Int?
    /// Most `--mem` a job may ask for (a size text).
    public var maxMem: String?
    /// Most `--nodes` a job may ask for.
    public var maxNodes: Int?

    /// Creates settings.
    public init(partition: String? = nil, account: String? = nil, time: String? = nil, extra: [String]? = nil,
                maxTime: String? = nil, maxGpus: Int? = nil, maxMem: String? = nil, maxNodes: Int? = nil) {
        self.partition = partition
        self.account = account
        self.time = time
        self.extra = extra
        self.maxTime = maxTime
        self.maxGpus = maxGpus
        self.maxMem = maxMem
        self.maxNodes = maxNodes
    }

    enum CodingKeys: String, CodingKey {
        case partition, account, time, extra
        case maxTime = "max_time", maxGpus = "max_gpus", maxMem = "max_mem", maxNodes = "max_nodes"
    }
}

extension SiteWorkspace {

    /// `resources.gpus` of site.yaml (0 when not declared).
    public var gpuCount: Int { max(0, config.resources?.gpus ?? 0) }

    /// `resources.memory` of site.yaml in bytes; nil when not declared.
    /// - Throws: ``WorkspaceError/invalidSiteFile(path:reason:)`` when it is not a size.
    public func memoryLimit() throws(WorkspaceError) -> Int64? {
        try size(config.resources?.memory, key: "resources.memory")
    }

    /// `slurm.time` and `slurm.max_time` of site.yaml.
    public func slurmTimes() throws(WorkspaceError) -> (time: Duration?, maxTime: Duration?) {
        (try duration(config.slurm?.time, key: "slurm.time"), try duration(config.slurm?.maxTime, key: "slurm.max_time"))
    }

    /// `slurm.max_mem` of site.yaml in bytes; nil when not declared.
    public func slurmMaxMemory() throws(WorkspaceError) -> Int64? {
        try size(config.slurm?.maxMem, key: "slurm.max_mem")
    }

    private func size(_ text: String?, key: String) throws(WorkspaceError) -> Int64? {
        guard let text else { return nil }
        guard let value = try? ByteCount.parse(text), value > 0 else {
            throw .invalidSiteFile(path: siteFile, reason: "\(key) '\(text)' is not a size: use e.g. 200GiB, or remove the key")
        }
        return value
    }

    private func duration(_ text: String?, key: String) throws(WorkspaceError) -> Duration? {
        guard let text else { return nil }
        guard let value = try? DurationText.parse(text), value > .zero else {
            throw .invalidSiteFile(path: siteFile, reason: "\(key) '\(text)' is not a positive duration: use e.g. 4h or 2d, or remove the key")
        }
        return value
    }
}
