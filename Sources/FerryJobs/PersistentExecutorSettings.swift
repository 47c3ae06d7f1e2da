/// `executor.persistent: true` of a client app: the executor process starts once per job per site and
/// takes every task of the job in turn (docs/executor-contract.md, "Persistent executors").
public struct PersistentExecutorSettings: Sendable, Equatable, Codable {
    /// How many times the process is started again after it crashed (exited other than after a stop
    /// request, or was killed by a signal) before the job's further tasks fail at once (`executor.restarts`).
    public var restarts: Int

    /// The default of ``restarts``.
    public static let defaultRestarts = 3

    /// The placeholders a persistent executor's `command` and `env` may use: the job's, not a task's
    /// (a task's values come with each request).
    public static let placeholders = ["rounds", "site", "job_id", "app_dir"]

    /// Creates the settings.
    public init(restarts: Int = defaultRestarts) {
        self.restarts = restarts
    }
}
