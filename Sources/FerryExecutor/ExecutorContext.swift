import FerryJobs

/// The values a client executor is started with: what `{placeholders}` in its command and
/// environment expand to, and the `FERRY_*` environment variables (docs/executor-contract.md).
public struct ExecutorContext: Sendable, Equatable {
    /// The global model to train from (absolute path), or "" when the trainer initializes its own.
    public var inputModel: String
    /// Where the executor must write its trained model (absolute path).
    public var outputModel: String
    /// Where the executor must write its result JSON (absolute path).
    public var result: String
    /// The round, 1-based.
    public var round: Int
    /// The number of rounds of the job.
    public var rounds: Int
    /// The site the executor runs at (e.g. `site-1`).
    public var site: String
    /// The job id.
    public var jobID: String
    /// The task name (e.g. `train`).
    public var task: String
    /// The client app folder, the executor's working directory (absolute path).
    public var appDirectory: String
    /// A scratch folder for this task (absolute path).
    public var workDirectory: String
    /// The JSON file with the round's config from the server (absolute path), "" when there is none.
    public var configFile: String
    /// The live metrics file the executor may append to (absolute path), "" when there is none.
    public var metricsFile: String
    /// Whether the task trains or evaluates (``TaskKind``); an evaluate task has no output model.
    public var taskKind: TaskKind = .train

    /// Creates a context; paths should be absolute because the executor runs in `appDirectory`.
    public init(inputModel: String, outputModel: String, result: String, round: Int, rounds: Int,
                site: String, jobID: String, task: String, appDirectory: String, workDirectory: String,
                configFile: String = "", metricsFile: String = "") {
        self.inputModel = inputModel
        self.outputModel = outputModel
        self.result = result
        self.round = round
        self.rounds = rounds
        self.site = site
        self.jobID = jobID
        self.task = task
        self.appDirectory = appDirectory
        self.workDirectory = workDirectory
        self.configFile = configFile
        self.metricsFile = metricsFile
    }

    /// Placeholder name (without braces) → value.
    public var placeholderValues: [String: String] {
        [
            "input_model": inputModel, "output_model": outputModel, "result": result,
            "round": String(round), "rounds": String(rounds), "site": site, "job_id": jobID,
            "task": task, "app_dir": appDirectory, "work_dir": workDirectory,
            "config": configFile, "metrics": metricsFile, "task_kind": taskKind.rawValue,
        ]
    }

    /// The `FERRY_*` environment variables the executor receives.
    public var environmentVariables: [String: String] {
        [
            "FERRY_INPUT_MODEL": inputModel, "FERRY_OUTPUT_MODEL": outputModel, "FERRY_RESULT": result,
            "FERRY_ROUND": String(round), "FERRY_ROUNDS": String(rounds), "FERRY_SITE": site,
            "FERRY_JOB_ID": jobID, "FERRY_TASK": task, "FERRY_APP_DIR": appDirectory,
            "FERRY_WORK_DIR": workDirectory, "FERRY_CONFIG": configFile, "FERRY_METRICS": metricsFile,
            "FERRY_TASK_KIND": taskKind.rawValue,
        ]
    }

    /// Expands every `{name}` in `text` with FerryJobs' ``Placeholders`` rules (`{{`/`}}` are literal braces).
    /// - Throws: ``ExecutorFailure/unknownPlaceholder(_:in:)`` for `{name}` with an unknown name.
    public func expand(_ text: String) throws(ExecutorFailure) -> String {
        let values = placeholderValues
        for name in Placeholders.references(in: text) where values[name] == nil {
            throw .unknownPlaceholder(name, in: text)
        }
        return Placeholders.expand(text, values: values)
    }
}
