/// What a task asks of the executor (`FERRY_TASK_KIND`, `{task_kind}`; docs/executor-contract.md).
public enum TaskKind: String, Sendable, Equatable, Codable, CaseIterable {
    /// Train from the input model; write the trained model and the result.
    case train
    /// Evaluate the input model on the site's data; write only the result (metrics), no model.
    case evaluate

    /// The kind of a task of the server's naming: `eval-…` tasks evaluate, every other task trains.
    public init(taskName: String) {
        self = taskName.hasPrefix(Self.evaluationPrefix) ? .evaluate : .train
    }

    /// The prefix of the names of evaluate tasks (`eval-r0002`, `eval-site-1`).
    public static let evaluationPrefix = "eval-"
}
