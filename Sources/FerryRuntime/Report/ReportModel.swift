/// The values a report template renders: plain strings (numbers already formatted), booleans, lists and
/// chart markup. docs/report-template.md lists every name. An absent optional value makes its section
/// `{{#name}}…{{/name}}` disappear.
struct ReportPage {
    /// `ferry report: NAME` or `ferry report: N jobs compared`.
    let title: String
    /// When the page was made, ISO 8601.
    let generatedAt: String
    /// How many jobs the page shows.
    let jobCount: Int
    /// The side-by-side comparison, with several jobs only.
    let comparison: ReportComparison?
    /// One entry per job, in command-line order.
    let jobs: [ReportJob]
}

/// The comparison of several jobs.
struct ReportComparison {
    /// One row of the comparison table.
    struct Row {
        let name: String, id: String, anchor: String
        let state: String, stateClass: String
        let rounds: Int
        /// The final aggregate value of each of ``ReportComparison/metrics`` (empty where the job has none).
        let finals: [String]
        let wire: String, unquantized: String, saving: String, time: String
    }

    /// The metric names of every job, `loss` first.
    let metrics: [String]
    let rows: [Row]
    /// The aggregate of each metric per round, one line per job, then the bytes on the wire per round.
    let charts: [ReportChart]
}

/// One job's section.
struct ReportJob {
    let id: String, name: String, anchor: String
    /// The job's state (`finished:completed`, …) and `ok`, `bad` or `running` for styling.
    let state: String, stateClass: String
    let reason: String?
    let workflow: String?
    let roundsDone: Int, roundsPlanned: Int
    /// Wall-clock time of the job.
    let time: String?
    /// Bytes each way (`wire / unquantized`, one figure when equal), both directions, and the saving.
    let toClients: String, fromClients: String, wire: String, unquantized: String, saving: String
    /// Bytes each way on the wire and before quantization, separately.
    let toClientsWire: String, toClientsUnquantized: String, fromClientsWire: String, fromClientsUnquantized: String
    let notes: [String]
    let finalModel: String?
    /// The metric names, `loss` first (the columns of each row's `values`).
    let metrics: [String]
    /// A chart per metric (each site and the aggregate per round), then the bytes per round.
    let charts: [ReportChart]
    let rounds: [ReportRound]
    /// Whether any round finished.
    let hasRounds: Bool
    /// Whether any site in any round has an error (the round table's error column).
    let hasErrors: Bool
    /// The evaluations of the global model (`evaluate_every`); nil when no round was evaluated.
    let evaluation: ReportEvaluation?
    /// The site × model matrix of a cross-site-eval job; nil otherwise.
    let crossSiteEval: ReportMatrix?
}

/// One round of a job.
struct ReportRound {
    let round: Int
    /// From the round's start to its aggregation.
    let time: String
    let sites: [ReportSiteRow]
    /// The aggregate value of each of the job's metrics (empty where missing).
    let aggregate: [String]
}

/// One site in one round.
struct ReportSiteRow {
    let site: String
    /// `ok`, `failed` or `timeout`, and `ok` or `bad` for styling.
    let status: String, statusClass: String
    let samples: String
    /// The site's value of each of the job's metrics (empty where missing).
    let values: [String]
    let toClient: String, fromClient: String
    /// The executor's run time (empty when not recorded).
    let time: String
    let error: String?
}
