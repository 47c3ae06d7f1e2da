import Foundation

/// One site's evaluation of one model: a cell of a round's evaluation or of the cross-site matrix
/// (docs/executor-contract.md, "Round records"; docs/runtime.md, "Cross-site evaluation").
public struct EvaluationResult: Codable, Sendable, Equatable {
    /// `ok`; `failed`, `timeout` or `absent` (the executor failed, no result in time, the site's
    /// watcher silent); `missing` when there was no model to evaluate (its site submitted none).
    public var status: String
    /// Samples the site evaluated on.
    public var numSamples: Int?
    /// The metrics the executor reported.
    public var metrics: [String: Double]?
    /// The executor's run time.
    public var durationSeconds: Double?
    /// Why there is no result.
    public var error: String?

    /// Creates a result.
    public init(status: String, numSamples: Int? = nil, metrics: [String: Double]? = nil,
                durationSeconds: Double? = nil, error: String? = nil) {
        self.status = status
        self.numSamples = numSamples
        self.metrics = metrics
        self.durationSeconds = durationSeconds
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case status, metrics, error
        case numSamples = "num_samples"
        case durationSeconds = "duration_s"
    }
}

/// `evaluate_every`: every site's evaluation of a round's global model, in the round record.
public struct RoundEvaluation: Codable, Sendable, Equatable {
    /// When the evaluation tasks were sent.
    public var startedAt: Date
    /// When the last result came in (or the deadline passed).
    public var finishedAt: Date
    /// Site name → its evaluation.
    public var sites: [String: EvaluationResult]
    /// The metrics averaged over the sites that succeeded, weighted by num_samples.
    public var aggregate: [String: Double]

    /// Creates an evaluation.
    public init(startedAt: Date, finishedAt: Date, sites: [String: EvaluationResult], aggregate: [String: Double]) {
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.sites = sites
        self.aggregate = aggregate
    }

    enum CodingKeys: String, CodingKey {
        case sites, aggregate
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}

extension EvaluationResult {
    /// The result a client's outcome records.
    init(_ outcome: ClientOutcome) {
        self.init(status: outcome.status.rawValue, numSamples: outcome.numSamples, metrics: outcome.metrics,
                  durationSeconds: outcome.durationSeconds, error: outcome.error)
    }
}
