import FerryAggregation
import FerryTransfer
import FerryQuant
import FerryJobs
import FerrySupport
import Foundation

/// How a message's payload is moved: the `transfer:` settings of an app plus its filter.
struct WireSettings: Codable, Sendable, Equatable {
    var mode: TransferMode
    var chunkSize: Int
    var window: Int
    /// The window in bytes (`window_bytes`), replacing ``window`` when set; nil in plans of older versions.
    var windowBytes: Int64?
    /// The quantization filter, nil for none.
    var quantize: QuantFormat?

    init(_ settings: TransferSettings, filter: QuantFormat?) {
        mode = settings.mode
        chunkSize = settings.chunkSize
        window = settings.window
        windowBytes = settings.windowBytes
        quantize = filter
    }

    init(mode: TransferMode, chunkSize: Int, window: Int, windowBytes: Int64?, quantize: QuantFormat?) {
        self.mode = mode
        self.chunkSize = chunkSize
        self.window = window
        self.windowBytes = windowBytes
        self.quantize = quantize
    }

    /// Plain files (archives, large job files, logs, reports): file mode, the default chunk size and
    /// byte window, no filter.
    static let plain = WireSettings(mode: .file, chunkSize: TransferOptions.defaultChunkSize, window: 4,
                                    windowBytes: TransferOptions.defaultWindowBytes, quantize: nil)
}

/// What the server needs from a validated job folder to run it, persisted in `runtime/workflow.json`
/// so a restarted server runs the job exactly as it was planned.
struct JobPlan: Codable, Sendable, Equatable {
    var name: String
    /// The server's workflow (``ServerWorkflows/make(_:)`` runs it); encoded as its `workflow:` word.
    var workflow: Workflow
    var rounds: Int
    /// Seconds a fedavg round (or a cyclic step) may take.
    var roundTimeout: Double
    var minClients: Int
    /// Absolute path of the initial model in the unpacked job, if any.
    var initialModel: String?
    /// Cyclic: `fixed` or `shuffle`.
    var order: String
    var seed: UInt64
    /// How the global model travels to clients.
    var toClients: WireSettings
    /// `keep: rounds`: every round's global model stays (nil in plans of older versions: not kept).
    var keepRounds: Bool?
    /// Client site → the client app it runs, in deploy order.
    var siteApps: [String: String]
    /// Client sites in the order they are listed in the federation.
    var sites: [String]
    /// The server app's `round_config:` (nil when absent, and in plans of older versions).
    var roundConfig: RoundConfig?
    /// `aggregator`, `trim`, `max_update_norm` (nil in plans of older versions: the weighted mean).
    var aggregation: RobustAggregation?
    /// fedopt's `server_optimizer` (nil otherwise).
    var serverOptimizer: ServerOptimizer?
    /// fedprox's `mu` (nil otherwise); ``roundConfig`` carries it to the clients as `fedprox_mu`.
    var mu: Double?
    /// scaffold's `server_lr` (nil otherwise: 1).
    var serverLearningRate: Double?
    /// fedavg/fedopt's `evaluate_every` (nil: no evaluation, and in plans of older versions).
    var evaluateEvery: Int?
    /// cross-site-eval: false for `local_models: none` (nil otherwise: the sites submit local models).
    var localModels: Bool?

    /// Checks `folder` against the federation's client sites and builds the plan.
    /// - Throws: ``RuntimeError/federation(_:)`` with a reason a user can act on.
    init(folder: JobFolder, serverName: String, clientSites: [String]) throws {
        let definition = folder.definition
        name = definition.name
        let server = folder.serverApp
        var apps: [String: String] = [:]
        var ordered: [String] = []
        for entry in definition.deploy {
            let targets = entry.target.resolve(clientSites: clientSites)
            for site in targets {
                if site == JobDefinition.serverSite || site == serverName { continue }
                guard clientSites.contains(site) else {
                    let known = clientSites.isEmpty ? "none" : clientSites.joined(separator: ", ")
                    throw RuntimeError.federation(
                        "the job deploys app '\(entry.app)' to site '\(site)', which is not in this federation (client sites: \(known)); fix the deploy map in job.yaml")
                }
                if let other = apps[site], other != entry.app {
                    throw RuntimeError.federation("site '\(site)' is given two apps ('\(other)' and '\(entry.app)'); deploy one app per site")
                }
                if apps[site] == nil { ordered.append(site) }
                apps[site] = entry.app
            }
        }
        siteApps = apps
        sites = clientSites.filter { apps[$0] != nil }
        workflow = server.workflow
        rounds = server.rounds
        roundTimeout = server.roundTimeout.seconds
        minClients = server.minClients
        initialModel = folder.initialModelPath.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        order = server.order.rawValue
        seed = server.seed
        toClients = WireSettings(server.transfer, filter: server.filters.toClients)
        keepRounds = server.keep == .rounds
        roundConfig = server.roundConfig
        aggregation = server.aggregation == .mean ? nil : server.aggregation
        serverOptimizer = server.serverOptimizer
        mu = server.workflow == .fedprox ? server.mu : nil
        serverLearningRate = server.workflow == .scaffold ? server.serverLearningRate : nil
        if let mu {
            var config = server.roundConfig ?? RoundConfig(entries: [:])
            config.entries[Workflow.fedproxMuKey] = .constant(.number(mu))
            roundConfig = config
        }
        evaluateEvery = server.evaluateEvery
        localModels = server.workflow == .crossSiteEval && !server.localModels ? false : nil
        guard !sites.isEmpty else {
            throw RuntimeError.federation("the job deploys no client app to any site of this federation")
        }
        guard sites.count >= minClients else {
            throw RuntimeError.federation(
                "the job needs min_clients = \(minClients) but is deployed to \(sites.count) site(s) (\(sites.joined(separator: ", "))); lower min_clients or deploy to more sites")
        }
    }
}

/// What a client needs from its app to run tasks; kept in `jobs/<id>/plan.json` on the client, so the
/// job's model files need not stay in the unpacked job.
struct ClientPlan: Codable, Sendable {
    var command: [String]
    var env: [String: String]
    var timeout: Duration
    var toServer: WireSettings
    /// `keep: outputs`: task outputs stay after their results were sent.
    var keepOutputs: Bool
    /// Where tasks run (nil in plans written before launchers existed: local).
    var launcher: LauncherKind?
    var slurm: SlurmRequest?
    var queueTimeout: Duration?
    /// The app's `resources:`, `max_memory` defaulting to job.yaml's.
    var resources: TaskResources?
    /// `executor.persistent: true`: one process takes all the job's tasks (nil: one per task).
    var persistent: PersistentExecutorSettings?
    /// Privacy filters applied to each result before it is sent (nil: none).
    var privacy: [PrivacyFilter]?

    init(_ app: ClientAppConfig, job: JobResources? = nil) {
        privacy = app.filters.privacy.isEmpty ? nil : app.filters.privacy
        launcher = app.executor.launcher
        slurm = app.executor.slurm
        queueTimeout = app.executor.queueTimeout
        resources = app.resources
        persistent = app.executor.persistent
        if let memory = job?.maxMemory, resources?.maxMemory == nil {
            resources = TaskResources(gpus: resources?.gpus ?? 0, maxMemory: memory)
        }
        keepOutputs = app.keep == .outputs
        command = app.executor.command
        env = app.executor.env
        timeout = app.executor.timeout
        toServer = WireSettings(app.transfer, filter: app.filters.toServer)
    }
}
