import FerryTransfer
import Foundation

/// The server's runtime state of one job: `jobs/<id>/runtime/workflow.json`, rewritten atomically at
/// every step, so that a restarted server continues at the right round (docs/runtime.md).
struct ServerJobState: Codable, Sendable, Equatable {
    enum Phase: String, Codable, Sendable {
        /// Deploy messages sent; waiting for the sites' answers.
        case deploying
        /// Rounds in progress.
        case running
        /// Completed, failed or aborted (the job store's state.json says which).
        case finished
    }

    var phase: Phase
    var plan: JobPlan
    var startedAt: Date
    /// Deployment answers are awaited until then.
    var deployDeadline: Date
    /// Sites that accepted the deployment: they get the tasks.
    var participants: [String] = []
    /// Current round, 1-based (0 while deploying).
    var round: Int = 0
    /// When the current round started (nil: not started yet; the next pass starts it).
    var roundStartedAt: Date?
    /// Deadline of the current fedavg round, or of the current cyclic step.
    var deadline: Date?
    /// `site|task` of the tasks whose client said they wait for disk space: the round's deadline does
    /// not pass for them (nil in states of older versions, and when there is none).
    var pausedTasks: [String]?
    /// Cyclic: the order of the current round.
    var order: [String] = []
    /// Cyclic: index of the current step in ``order``.
    var step: Int = 0
    /// Cyclic: the model the next step starts from (nil: none yet).
    var currentModel: String?
    /// Once finished: how the job ended, why, and when. `workflow.json` commits the end first; `state.json`
    /// is brought up to date from these after a restart that cut the job store's update short.
    var ending: ServerJob.Ending?
    var endReason: String?
    var endedAt: Date?
}

/// A client's answer to a task or a deployment, as the server keeps it:
/// `runtime/deploy/<site>.json` and `runtime/round-NNNN/<site>.json`.
struct ClientOutcome: Codable, Sendable, Equatable {
    enum Status: String, Codable, Sendable {
        case ok, failed, timeout
        /// The site's heartbeat was silent longer than the liveness grace: not waited for.
        case absent
    }

    var site: String
    var task: String
    var round: Int
    var status: Status
    var numSamples: Int?
    var metrics: [String: Double]?
    var durationSeconds: Double?
    var error: String?
    /// Bytes of the result that crossed the share, and of the restored model.
    var bytesFromClient: Int64 = 0
    var bytesFromClientUnquantized: Int64 = 0
    var receivedAt: Date
    /// The received model (absolute path) for ok results.
    var model: String?
    /// The privacy filters the site applied to the result (docs/filters.md).
    var filters: [AppliedFilter]?
}

/// A round's record: `rounds/round-NNNN.json` in the job store (schema in docs/executor-contract.md,
/// "Round records").
public struct RoundRecord: Codable, Sendable, Equatable {
    public struct Client: Codable, Sendable, Equatable {
        /// `ok`, `failed`, `timeout` or `absent` (silent longer than the liveness grace).
        public var status: String
        /// Samples the client trained on (weight in the average).
        public var numSamples: Int?
        /// The metrics the executor reported.
        public var metrics: [String: Double]?
        /// The executor's run time.
        public var durationSeconds: Double?
        /// Why the client failed or timed out.
        public var error: String?
        /// Bytes of the task (global model) on the wire, after quantization.
        public var bytesToClient: Int64
        /// Bytes of the task payload before quantization.
        public var bytesToClientUnquantized: Int64
        /// Bytes of the result on the wire, after quantization.
        public var bytesFromClient: Int64
        /// Bytes of the restored result model.
        public var bytesFromClientUnquantized: Int64
        /// Cyclic: the position of the site in the round's order (1-based).
        public var position: Int?
        /// The privacy filters the site applied to its result, for privacy accounting (docs/filters.md).
        public var filters: [AppliedFilter]? = nil

        enum CodingKeys: String, CodingKey {
            case status, metrics, error, position, filters
            case numSamples = "num_samples"
            case durationSeconds = "duration_s"
            case bytesToClient = "bytes_to_client"
            case bytesToClientUnquantized = "bytes_to_client_unquantized"
            case bytesFromClient = "bytes_from_client"
            case bytesFromClientUnquantized = "bytes_from_client_unquantized"
        }
    }

    /// The round, 1-based.
    public var round: Int
    /// `fedavg` or `cyclic`.
    public var workflow: String
    /// When the round started.
    public var startedAt: Date
    /// When the round was aggregated.
    public var finishedAt: Date
    /// Site name → its part in the round.
    public var clients: [String: Client]
    /// Metrics averaged over the successful clients, weighted by num_samples.
    public var aggregate: [String: Double]
    /// The global model after this round, relative to the job folder.
    public var globalModel: String
    /// Cyclic: the order the model travelled in.
    public var order: [String]?
    /// What the round's sends did differently from what the job asked (e.g. a filter unavailable in this build).
    public var notes: [String]? = nil
    /// `evaluate_every`: every site's evaluation of this round's global model (nil in rounds not evaluated).
    public var evaluation: RoundEvaluation? = nil

    enum CodingKeys: String, CodingKey {
        case round, workflow, clients, aggregate, order, notes, evaluation
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case globalModel = "global_model"
    }
}

/// `metrics.json` of a job: the aggregate metrics of every round so far.
public struct MetricsFile: Codable, Sendable, Equatable {
    public struct Round: Codable, Sendable, Equatable {
        /// The round, 1-based.
        public var round: Int
        /// Aggregate metrics of the round.
        public var metrics: [String: Double]
        /// Clients whose results were aggregated.
        public var clients: Int
        /// `evaluate_every`: the evaluation metrics of the round's global model, averaged over the
        /// sites weighted by num_samples (nil in rounds not evaluated).
        public var evaluation: [String: Double]? = nil
    }

    /// Every finished round, in order.
    public var rounds: [Round]
    /// The last round's aggregate metrics.
    public var final: [String: Double]
}
