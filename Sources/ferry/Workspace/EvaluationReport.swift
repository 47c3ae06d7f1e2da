import FerryRuntime
import FerrySupport
import FerryWorkspace
import Foundation

/// How `ferry status` shows a job's evaluations: the latest evaluated round of `evaluate_every` and the
/// cross-site matrix, as text lines and as `--json` values.
enum EvaluationReport {
    /// `--json` values: `evaluations` (each evaluated round) and `cross_site_eval` (the matrix), when present.
    static func json(_ run: JobRun) throws -> [String: Any] {
        var object: [String: Any] = [:]
        let rounds = run.evaluatedRounds
        if !rounds.isEmpty {
            object["evaluations"] = try rounds.map { entry -> Any in
                var value = try dictionary(entry.evaluation)
                value["round"] = entry.round
                return value
            }
        }
        if let matrix = run.crossSiteEval { object["cross_site_eval"] = try dictionary(matrix) }
        return object
    }

    /// `round 4: site-1 accuracy=0.8 loss=0.4` per site of the latest evaluated round, then the aggregate.
    static func latestLines(_ run: JobRun) -> [String] {
        guard let (round, evaluation) = run.evaluatedRounds.last else { return [] }
        func values(_ metrics: [String: Double]) -> String {
            metrics.keys.sorted().map { "\($0)=\(formatFixed(metrics[$0]!, 4))" }.joined(separator: " ")
        }
        var lines = evaluation.sites.keys.sorted().map { site -> String in
            let r = evaluation.sites[site]!
            return "round \(round): \(site) " + (r.status == "ok" ? values(r.metrics ?? [:]) : "\(r.status): \(r.error ?? "no reason given")")
        }
        lines.append("round \(round): aggregate \(values(evaluation.aggregate))")
        return lines
    }

    private static func dictionary<T: Encodable>(_ value: T) throws -> [String: Any] {
        let data = try JobStoreCoding.encoder().encode(value)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}
