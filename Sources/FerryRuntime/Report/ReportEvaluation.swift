import FerrySupport

/// A job's evaluations of its global model (`evaluate_every`) in the report: one row per site and
/// evaluated round, then the round's aggregate.
struct ReportEvaluation {
    /// One site (or the aggregate) in one evaluated round.
    struct Row {
        let round: Int
        let site: String
        /// `ok`, `failed`, `timeout`, `absent` or empty for the aggregate; `ok` or `bad` for styling.
        let status: String, statusClass: String
        let samples: String
        /// The value of each of ``ReportEvaluation/metrics`` (empty where missing).
        let values: [String]
        let error: String?
        /// Whether this is the round's aggregate row.
        let isAggregate: Bool
    }

    /// The metric names, `loss` first.
    let metrics: [String]
    let rows: [Row]
    /// Whether any row has an error.
    let hasErrors: Bool

    /// The evaluations of `run`; nil when no round was evaluated.
    init?(run: JobRun) {
        let evaluated = run.evaluatedRounds
        guard !evaluated.isEmpty else { return nil }
        let metrics = run.evaluationMetricNames
        self.metrics = metrics
        var rows: [Row] = []
        for (round, evaluation) in evaluated {
            for site in evaluation.sites.keys.sorted() {
                let r = evaluation.sites[site]!
                rows.append(Row(round: round, site: site, status: r.status, statusClass: r.status == "ok" ? "ok" : "bad",
                                samples: r.numSamples.map(String.init) ?? "",
                                values: metrics.map { r.metrics?[$0].map(ReportFormat.metric) ?? "" }, error: r.error, isAggregate: false))
            }
            rows.append(Row(round: round, site: "aggregate", status: "", statusClass: "", samples: "",
                            values: metrics.map { evaluation.aggregate[$0].map(ReportFormat.metric) ?? "" }, error: nil, isAggregate: true))
        }
        self.rows = rows
        hasErrors = rows.contains { $0.error != nil }
    }

    /// A chart per metric: each site's evaluation and the aggregate per evaluated round.
    static func charts(_ run: JobRun) -> [ReportChart] {
        let evaluated = run.evaluatedRounds
        guard !evaluated.isEmpty else { return [] }
        let sites = Set(evaluated.flatMap { $0.evaluation.sites.keys }).sorted()
        return run.evaluationMetricNames.map { metric in
            var series: [SVGChart.Series] = sites.enumerated().compactMap { i, site in
                let points = evaluated.compactMap { e in e.evaluation.sites[site]?.metrics?[metric].map { (x: Double(e.round), y: $0) } }
                return points.isEmpty ? nil : .init(label: site, points: points, style: .peer(i))
            }
            let aggregate = evaluated.compactMap { e in e.evaluation.aggregate[metric].map { (x: Double(e.round), y: $0) } }
            if !aggregate.isEmpty { series.append(.init(label: "aggregate", points: aggregate, style: .aggregate)) }
            return SVGChart.lines(title: "eval \(metric) per round (evaluate_every)", series: series)
        }
    }
}

/// The cross-site evaluation matrix in the report: a table per metric, rows the sites (whose data),
/// columns the models.
struct ReportMatrix {
    /// The table of one metric.
    struct Table {
        struct Row {
            let site: String
            let cells: [Cell]
        }
        struct Cell {
            /// The value, or the status of a missing result.
            let value: String
            /// `ok` or `bad` for styling.
            let cellClass: String
            /// Why the result is missing (absent otherwise), for the cell's tooltip.
            let error: String?
        }
        let metric: String
        let rows: [Row]
    }

    /// The column names: `global`, then each site's local model.
    let models: [String]
    let tables: [Table]
    /// `site × model: status: reason` of every missing cell.
    let missing: [String]

    init(_ matrix: CrossSiteEvalMatrix) {
        models = matrix.models.map(\.name)
        tables = matrix.metricNames.map { metric in
            Table(metric: metric, rows: matrix.sites.map { site in
                Table.Row(site: site, cells: matrix.models.map { model in
                    let r = matrix.results[site]?[model.name]
                    let ok = r?.status == "ok"
                    return Table.Cell(value: ok ? r?.metrics?[metric].map(ReportFormat.metric) ?? "" : r?.status ?? "missing",
                                      cellClass: ok ? "ok" : "bad", error: ok ? nil : r?.error)
                })
            })
        }
        missing = matrix.sites.flatMap { site in
            matrix.models.compactMap { model in
                guard let r = matrix.results[site]?[model.name], r.status != "ok" else { return nil }
                return "\(site) × \(model.name): \(r.status): \(r.error ?? "no reason given")"
            }
        }
    }
}
