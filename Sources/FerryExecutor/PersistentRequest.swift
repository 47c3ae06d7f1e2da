import FerrySupport
import Foundation

/// The files of a persistent executor's folder (`FERRY_EXECUTOR_DIR`, `<client workspace>/jobs/<job>/executor/`;
/// docs/executor-contract.md, "Persistent executors").
public enum PersistentExecutorFiles {
    /// The running process (``ExecutorProcessRecord``), written before it may run anything.
    public static let process = "process.json"
    /// Written by the watcher when the job is over here: the executor exits once it sees it.
    public static let stop = "stop"
    /// Starts, crashes and the last crash of the job's executor (``PersistentExecutorState``).
    public static let state = "state.json"
    /// The folder of requests and done markers.
    public static let requests = "requests"

    /// `requests/000001.json`: the request of the `sequence`-th task of the process.
    public static func request(_ sequence: Int) -> String { "\(requests)/\(number(sequence)).json" }
    /// `requests/000001.done`: the executor's answer that it finished that task.
    public static func done(_ sequence: Int) -> String { "\(requests)/\(number(sequence)).done" }

    private static func number(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

/// One task for a persistent executor (`requests/<n>.json`): the values the placeholders of a one-shot
/// executor would have, under the same names, plus the task's kind and sequence number.
public struct PersistentRequest: Codable, Sendable, Equatable {
    /// The request's number in this process's life (1, 2, …): the name of its file.
    public var sequence: Int
    /// `train` or `evaluate` (the one-shot contract's `FERRY_TASK_KIND`).
    public var kind: String
    public var task: String
    public var round: Int
    public var rounds: Int
    public var site: String
    public var jobID: String
    public var inputModel: String
    public var outputModel: String
    public var result: String
    public var workDirectory: String
    public var appDirectory: String
    public var config: String
    public var metrics: String
    /// The task's time limit in seconds (counted from when the request was written).
    public var timeoutSeconds: Double
    /// Variables of this task beyond the placeholders' (scaffold's `FERRY_CONTROL_*`), set while it runs.
    public var environment: [String: String]?

    enum CodingKeys: String, CodingKey {
        case sequence = "seq", kind, task, round, rounds, site, jobID = "job_id", inputModel = "input_model"
        case outputModel = "output_model", result, workDirectory = "work_dir", appDirectory = "app_dir", config, metrics
        case timeoutSeconds = "timeout_seconds", environment = "env"
    }

    /// The request of the task `context` describes.
    public init(sequence: Int, context: ExecutorContext, timeout: Duration) {
        self.sequence = sequence
        kind = context.taskKind.rawValue
        task = context.task
        round = context.round
        rounds = context.rounds
        site = context.site
        jobID = context.jobID
        inputModel = context.inputModel
        outputModel = context.outputModel
        result = context.result
        workDirectory = context.workDirectory
        appDirectory = context.appDirectory
        config = context.configFile
        metrics = context.metricsFile
        timeoutSeconds = timeout.seconds
    }
}

/// `requests/<n>.done`: the executor finished the request; `error` when it reports the task failed.
public struct PersistentDoneMarker: Codable, Sendable, Equatable {
    /// `ok` or `failed`.
    public var status: String?
    /// Why the task failed (with `status: failed`).
    public var error: String?
}

/// `state.json` of a persistent executor's folder: how its process fared over the job.
public struct PersistentExecutorState: Codable, Sendable, Equatable {
    /// The current (or last) process, 0 before the first start.
    public var pid: Int32
    /// How many processes were started.
    public var starts: Int
    /// How many of them crashed (ended other than after a stop request, a timeout or a cancellation, with a
    /// status other than 0, or while running a task).
    public var crashes: Int
    /// `executor.restarts`.
    public var restarts: Int
    /// How the last crash ended, nil without one.
    public var lastCrash: String?
    /// When this was written.
    public var updatedAt: Date
}
