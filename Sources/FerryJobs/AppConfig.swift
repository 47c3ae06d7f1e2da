import FerryAggregation
import FerryQuant
import FerryTransfer

/// An app of a job: a server app has `workflow`, a client app has `executor`.
public enum AppConfig: Sendable, Equatable {
    case server(ServerAppConfig)
    case client(ClientAppConfig)
}

/// The server's workflow.
public enum Workflow: String, Sendable, Equatable, CaseIterable, Codable {
    /// Federated averaging: every client trains on the global model each round; weighted mean.
    case fedavg
    /// Cyclic weight transfer: clients train one after another, passing the model along.
    case cyclic
    /// FedOpt: FedAvg's round, then a server optimizer (`server_optimizer:`) applied to the averaged update.
    case fedopt
    /// FedProx: FedAvg's round, with the proximal weight `mu` sent to the clients in every round's config.
    case fedprox
    /// SCAFFOLD (option II): control variates on the server and at each client, sent with the model.
    case scaffold
    /// Cross-site evaluation: each site submits its local model (a train task), then every site
    /// evaluates every site's model and the global one; the result is a site × model matrix of metrics.
    case crossSiteEval = "cross-site-eval"
}

/// The order of clients in a cyclic workflow.
public enum CyclicOrder: String, Sendable, Equatable, CaseIterable {
    /// Sites in sorted name order every round.
    case fixed
    /// A new random order every round, from `seed`.
    case shuffle
}

/// What the server keeps beyond the initial and final models (`keep:` in the server app).
public enum ServerKeep: String, Sendable, Equatable, CaseIterable {
    /// Every round's global model (`models/global-round-N.safetensors`).
    case rounds
}

/// What a client keeps after its tasks (`keep:` in a client app).
public enum ClientKeep: String, Sendable, Equatable, CaseIterable {
    /// Every task's `output.safetensors`.
    case outputs
}

/// Streaming settings of an app (`transfer:`).
public struct TransferSettings: Sendable, Equatable {
    /// Chunking mode (default container).
    public var mode: TransferMode
    /// Chunk size in bytes (default ``TransferOptions/defaultChunkSize``, 2 MiB).
    public var chunkSize: Int
    /// Chunks in flight before waiting for acknowledgements (4), used when ``windowBytes`` is nil.
    public var window: Int
    /// Bytes in flight before waiting for acknowledgements (`window_bytes`); replaces ``window`` when
    /// set. Default ``TransferOptions/defaultWindowBytes`` (128 MiB); nil when `app.yaml` gives `window`
    /// alone.
    public var windowBytes: Int64?

    /// Creates settings; the defaults are the schema's.
    public init(mode: TransferMode = .container, chunkSize: Int = TransferOptions.defaultChunkSize, window: Int = 4,
                windowBytes: Int64? = TransferOptions.defaultWindowBytes) {
        self.mode = mode
        self.chunkSize = chunkSize
        self.window = window
        self.windowBytes = windowBytes
    }

    /// The defaults: container mode, 2 MiB chunks, a window of 128 MiB.
    public static let defaults = TransferSettings()
}

/// Filters of the server app.
public struct ServerFilters: Sendable, Equatable {
    /// Quantization of models sent to clients; nil means none.
    public var toClients: QuantFormat?
}

/// Filters of a client app.
public struct ClientFilters: Sendable, Equatable {
    /// Quantization of models sent to the server; nil means none.
    public var toServer: QuantFormat?
    /// Privacy filters applied to the update before quantization, in order (docs/filters.md).
    public var privacy: [PrivacyFilter] = []
    /// Line of `to_server` in app.yaml, for diagnostics about the filters.
    public var line: Int? = nil
}

/// `apps/<server>/app.yaml`.
public struct ServerAppConfig: Sendable, Equatable {
    public var workflow: Workflow
    /// Rounds to run (>= 1).
    public var rounds: Int
    /// How long the server waits for a round's results (default 30m).
    public var roundTimeout: Duration
    /// Fewest clients per round; defaults to job.yaml's `min_clients`.
    public var minClients: Int
    /// Initial model, relative to the job folder; nil lets the trainer initialize in round 1.
    public var initialModel: String?
    /// Client order (cyclic only; default fixed).
    public var order: CyclicOrder
    /// Seed for `order: shuffle` (default 0).
    public var seed: UInt64
    public var filters: ServerFilters
    public var transfer: TransferSettings
    /// Files kept beyond the initial and final models; nil (`keep: none`, the default) keeps none.
    public var keep: ServerKeep? = nil
    /// `round_config:`: values sent to the clients with every task; nil when absent.
    public var roundConfig: RoundConfig? = nil
    /// `aggregator`, `trim`, `max_update_norm` (fedavg and fedopt; default: the weighted mean).
    public var aggregation: RobustAggregation = .mean
    /// `server_optimizer:` (fedopt only).
    public var serverOptimizer: ServerOptimizer? = nil
    /// `mu:` (fedprox only): the proximal term's weight, sent as `fedprox_mu` in every round's config.
    public var mu: Double? = nil
    /// `server_lr:` (scaffold only, default 1): the server step η_g along the averaged update.
    public var serverLearningRate: Double? = nil
    /// `evaluate_every: N` (fedavg, fedopt): every site evaluates the global model after every N-th round.
    public var evaluateEvery: Int? = nil
    /// `local_models:` (cross-site-eval): whether the sites first submit their local models (`train`,
    /// the default) or only the global model is evaluated (`none`).
    public var localModels: Bool = true
}

/// How a client app runs its trainer (`executor:`).
public struct ExecutorConfig: Sendable, Equatable {
    /// argv, with placeholders such as `{input_model}` not yet expanded.
    public var command: [String]
    /// Extra environment, values may hold placeholders.
    public var env: [String: String]
    /// Longest a single task may run (default 30m); under Slurm counted from the job's start, not its submission.
    public var timeout: Duration
    /// Where the executor runs (default local).
    public var launcher: LauncherKind = .local
    /// What the task asks of Slurm (`launcher: slurm` only).
    public var slurm: SlurmRequest? = nil
    /// Longest a Slurm job may wait in the queue before ferry cancels it (nil: no limit).
    public var queueTimeout: Duration? = nil
    /// `persistent: true`: one process per job per site takes every task of the job in turn over the
    /// request protocol of docs/executor-contract.md; nil: a new process per task (the default).
    public var persistent: PersistentExecutorSettings? = nil
}

/// `apps/<client>/app.yaml`.
public struct ClientAppConfig: Sendable, Equatable {
    public var executor: ExecutorConfig
    public var filters: ClientFilters
    public var transfer: TransferSettings
    /// Model files kept after the tasks; nil (`keep: none`, the default) keeps none.
    public var keep: ClientKeep? = nil
    /// What each task needs (`resources:`); nil asks for nothing.
    public var resources: TaskResources? = nil
}
