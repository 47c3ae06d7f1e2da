import FerryExecutor
import Foundation

/// `jobs/<id>/deploy.json` on a client: the job was verified and unpacked.
struct DeployRecord: Codable, Sendable, Equatable {
    var job: String
    var app: String
    var server: String
    var deployedAt: Date
}

/// `jobs/<id>/plan.json` on a client: what its app runs (written before `deploy.json`), so that the
/// unpacked job need not be loaded again, nor keep the job's initial model (docs/runtime.md).
struct ClientDeployment: Codable, Sendable {
    var app: String
    /// The client app's folder in the unpacked job.
    var directory: String
    var plan: ClientPlan
}

/// `jobs/<id>/refused.json` or `jobs/<id>/aborted.json` on a client.
struct StopRecord: Codable, Sendable, Equatable {
    var job: String
    var reason: String
    var at: Date
}

/// `jobs/<id>/tasks/<task>/task.json`: a task received from the server (the commit point of its arrival).
struct TaskRecord: Codable, Sendable, Equatable {
    var job: String
    var task: String
    var round: Int
    var rounds: Int
    /// Whether `input.safetensors` holds the global model.
    var hasModel: Bool
    var receivedAt: Date
    /// `train` or `evaluate` (nil in records of older versions: train).
    var kind: TaskKind? = nil
    /// Whether the server said this is the site's last task of the job (nil: the last round's task is).
    var last: Bool? = nil

    /// Whether no task of the job follows this one at this site.
    var isLast: Bool { last ?? (round >= rounds) }
    /// Whether the task evaluates (no output model, metrics only).
    var evaluates: Bool { kind == .evaluate }
}

/// File names of a client task folder.
enum ClientFiles {
    /// `jobs/<id>/tasks/<task>/executor.json`: the last attempt's executor process (``ExecutorProcessRecord``).
    static let executorRecord = "executor.json"
    /// `jobs/<id>/tasks/<task>/config.json`: the round's config the server sent (`FERRY_CONFIG`).
    static let roundConfig = "config.json"
    /// `jobs/<id>/tasks/<task>/metrics.jsonl`: the executor's live metrics (`FERRY_METRICS`).
    static let liveMetrics = "metrics.jsonl"
    /// `jobs/<id>/pending-files.json`: the large files a deployment waits for (``PendingFiles``).
    static let pendingFiles = "pending-files.json"
    /// `jobs/<id>/files/<path>`: those files as they arrive, until they are placed into the unpacked job.
    static let receivedFiles = "files"
}

/// `jobs/<id>/tasks/<task>/started.json`: written before the executor starts.
struct TaskStart: Codable, Sendable, Equatable {
    var attempt: Int
    var startedAt: Date
}

/// `jobs/<id>/tasks/<task>/outcome.json`: written when the executor ended, before the result is queued.
struct TaskOutcome: Codable, Sendable, Equatable {
    var ok: Bool
    var numSamples: Int?
    var metrics: [String: Double]?
    var durationSeconds: Double
    var error: String?
    var finishedAt: Date
}
