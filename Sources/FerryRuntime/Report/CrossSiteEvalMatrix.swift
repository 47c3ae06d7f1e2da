import FerrySupport
import Foundation

/// The result of a `cross-site-eval` job: `cross_site_eval.json` in the job folder (docs/runtime.md,
/// "Cross-site evaluation"). Rows are the sites (whose data evaluated), columns the models (the global
/// one, then each site's local model); each cell is an ``EvaluationResult``.
public struct CrossSiteEvalMatrix: Codable, Sendable, Equatable {
    /// A column of the matrix.
    public struct Model: Codable, Sendable, Equatable {
        /// `global`, or the site that submitted the model.
        public var name: String
        /// `global` (the job's initial model) or `local` (a site's submission).
        public var source: String
        /// `ok` when the model was evaluated; otherwise why its site submitted none (`failed`, `timeout`, `absent`).
        public var status: String
        /// Why the model is missing.
        public var error: String?
    }

    /// The file name in the job folder (and in `ferry download`'s output, beside ``csvFileName``).
    public static let fileName = "cross_site_eval.json"
    /// The CSV `ferry download` writes beside the JSON.
    public static let csvFileName = "cross_site_eval.csv"
    /// The column name of the global model.
    public static let globalModel = "global"

    /// The job id.
    public var job: String
    /// When the matrix was made.
    public var createdAt: Date
    /// The rows: the sites that evaluated, in the federation's order.
    public var sites: [String]
    /// The columns.
    public var models: [Model]
    /// Site → model name → result.
    public var results: [String: [String: EvaluationResult]]

    enum CodingKeys: String, CodingKey {
        case job, sites, models, results
        case createdAt = "created_at"
    }

    /// Reads the matrix of the job folder `jobDirectory`; nil when there is none (or it is unreadable).
    public static func read(jobDirectory: String) -> CrossSiteEvalMatrix? {
        try? JSONFile.readIfPresent(CrossSiteEvalMatrix.self, from: FileSystem.join(jobDirectory, fileName))
    }

    /// Every site's result for model `name`, in row order.
    public func column(_ name: String) -> [EvaluationResult] { sites.compactMap { results[$0]?[name] } }

    /// The cells with a result.
    public var okCount: Int { results.values.reduce(0) { $0 + $1.values.filter { $0.status == "ok" }.count } }

    /// The metric names of any cell, `loss` first, then alphabetical.
    public var metricNames: [String] {
        Set(results.values.flatMap { $0.values.flatMap { ($0.metrics ?? [:]).keys } })
            .sorted { a, b in a == "loss" ? b != "loss" : b == "loss" ? false : a < b }
    }

    /// The value shown in a cell for `metric`: the number, or the status of a missing result.
    public func cell(site: String, model: String, metric: String) -> String {
        guard let r = results[site]?[model] else { return "-" }
        guard r.status == "ok" else { return r.status }
        return r.metrics?[metric].map { formatFixed($0, 4) } ?? "-"
    }

    /// One long-format CSV row per site and model: `site,model,status,num_samples,<metrics…>,error`.
    public var csv: String {
        let metrics = metricNames
        var lines = [(["site", "model", "status", "num_samples"] + metrics + ["error"]).map(Self.csvField).joined(separator: ",")]
        for site in sites {
            for model in models {
                let r = results[site]?[model.name]
                var row = [site, model.name, r?.status ?? "missing", r?.numSamples.map(String.init) ?? ""]
                row += metrics.map { m in r?.metrics?[m].map { "\($0)" } ?? "" }
                row.append(r?.error ?? "")
                lines.append(row.map(Self.csvField).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A table per metric (rows: sites, columns: models), then the reasons of the missing cells.
    public var text: String {
        var out = ""
        for metric in metricNames {
            out += "cross-site evaluation: \(metric) (rows: data of site, columns: model)\n"
            let rows = sites.map { site in [site] + models.map { cell(site: site, model: $0.name, metric: metric) } }
            out += JobSummary.table(header: ["site"] + models.map(\.name), rows: rows)
        }
        if metricNames.isEmpty { out += "cross-site evaluation: no result\n" }
        for site in sites {
            for model in models {
                guard let r = results[site]?[model.name], r.status != "ok" else { continue }
                out += "missing: \(site) × \(model.name): \(r.status): \(r.error ?? "no reason given")\n"
            }
        }
        return out
    }

    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension JobRun {
    /// The cross-site evaluation matrix of a `cross-site-eval` job, once it finished.
    public var crossSiteEval: CrossSiteEvalMatrix? { CrossSiteEvalMatrix.read(jobDirectory: paths.directory) }

    /// The rounds whose global model every site evaluated (`evaluate_every`), in order.
    public var evaluatedRounds: [(round: Int, evaluation: RoundEvaluation)] {
        rounds.compactMap { r in r.evaluation.map { (r.round, $0) } }
    }

    /// The metric names of the rounds' evaluations, `loss` first, then alphabetical.
    public var evaluationMetricNames: [String] {
        Set(evaluatedRounds.flatMap { e in e.evaluation.aggregate.keys + e.evaluation.sites.values.flatMap { ($0.metrics ?? [:]).keys } })
            .sorted { a, b in a == "loss" ? b != "loss" : b == "loss" ? false : a < b }
    }

    /// A table of the evaluated rounds: per round each site's value of every metric and the aggregate;
    /// a site without a result shows its status. Empty when no round was evaluated.
    public var evaluationText: String {
        let metrics = evaluationMetricNames
        guard !evaluatedRounds.isEmpty else { return "" }
        var rows: [[String]] = []
        for (round, evaluation) in evaluatedRounds {
            for site in evaluation.sites.keys.sorted() {
                let r = evaluation.sites[site]!
                rows.append(["\(round)", site] + metrics.map { m in r.status == "ok" ? r.metrics?[m].map { formatFixed($0, 4) } ?? "-" : r.status })
            }
            rows.append(["\(round)", "aggregate"] + metrics.map { evaluation.aggregate[$0].map { formatFixed($0, 4) } ?? "-" })
        }
        var out = "evaluation of the global model (evaluate_every)\n" + JobSummary.table(header: ["round", "site"] + metrics, rows: rows)
        for (round, evaluation) in evaluatedRounds {
            for site in evaluation.sites.keys.sorted() where evaluation.sites[site]!.status != "ok" {
                out += "missing: round \(round) \(site): \(evaluation.sites[site]!.status): \(evaluation.sites[site]!.error ?? "no reason given")\n"
            }
        }
        return out
    }
}
