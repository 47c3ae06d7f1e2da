import FerryJobs
import FerrySupport
import FerryTransfer
import Foundation

/// What a site's privacy filters did to one result, kept in the task folder (`filters.json`) and never
/// sent: the seed it drew, the update's norm and the percentile cutoff depend on its data.
struct FilterReport: Codable, Sendable, Equatable {
    /// The noise seed the site drew (nil when every dp-gaussian filter has the job's seed).
    var siteSeed: UInt64?
    var updateNorms: [Double]
    var cutoffs: [Double]
    var excluded: [String]
    var applied: [AppliedFilter]
}

extension ClientRole {
    /// The file to send as `task`'s result and the metadata that describes its filters: `output`
    /// itself when the job has no privacy filters, else `filtered.safetensors` in the task folder,
    /// made from `output` and the task's global model (`input.safetensors`).
    /// - Throws: ``PrivacyFilterError`` when the filters cannot be applied (nothing is sent then).
    func filteredResult(job: String, task: String, round: Int, output: String) throws -> (path: String, metadata: [String: String]) {
        guard let filters = try plan(for: job).plan.privacy, !filters.isEmpty else { return (output, [:]) }
        let tdir = taskDirectory(job, task)
        let input = FileSystem.join(tdir, "input.safetensors")
        let filtered = FileSystem.join(tdir, "filtered.safetensors")
        let chain = Self.chain(filters, round: round, site: workspace.name, siteSeed: UInt64.random(in: .min ... .max))
        let outcome = try chain.apply(model: output, reference: FileSystem.exists(input) ? input : nil, output: filtered)
        let usesSiteSeed = filters.contains { if case .dpGaussian(let s) = $0 { return s.seed == nil }; return false }
        let report = FilterReport(siteSeed: usesSiteSeed ? chain.noiseSeed : nil, updateNorms: outcome.updateNorms,
                                  cutoffs: outcome.cutoffs, excluded: outcome.excluded, applied: outcome.applied)
        try JSONFile.write(report, to: FileSystem.join(tdir, "filters.json"))
        log(job, "filters on the result of \(task): \(Self.summary(report)) (site-only details in tasks/\(task)/filters.json)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(outcome.applied), as: UTF8.self)
        return (filtered, [MessageKey.filters: text])
    }

    /// The chain for a result of `round` at `site`: a seed the job fixes is mixed with the round and the
    /// site, so no two results get the same noise (docs/filters.md, "Seeds").
    static func chain(_ filters: [PrivacyFilter], round: Int, site: String, siteSeed: UInt64) -> UpdateFilterChain {
        let resolved = filters.map { filter -> PrivacyFilter in
            guard case .dpGaussian(var settings) = filter, let seed = settings.seed else { return filter }
            var mix = SplitMix64(seed: seed, stream: "ferry dp-gaussian round \(round) site \(site)")
            settings.seed = mix.next()
            return .dpGaussian(settings)
        }
        return UpdateFilterChain(filters: resolved, noiseSeed: siteSeed)
    }

    private static func summary(_ report: FilterReport) -> String {
        report.applied.map { f in
            switch f.name {
            case "exclude": return "exclude left out \(f.excludedTensors ?? 0) tensor(s)"
            case "dp-gaussian": return "dp-gaussian clip \(f.clip ?? 0), noise std \(f.noiseStd ?? 0) over \(f.values ?? 0) values (seed from the \(f.seedSource ?? "site"))"
            default: return "percentile \(f.percentile ?? 0), gamma \(f.gamma ?? 0) over \(f.values ?? 0) values"
            }
        }.joined(separator: "; ")
    }
}
