import FerrySupport
import FerryTensors
import FerryTransfer
import Foundation

extension ServerJob {
    /// The privacy filters a result's metadata declares (`ferry.filters`); nil when none or unreadable.
    static func appliedFilters(_ metadata: [String: String]) -> [AppliedFilter]? {
        guard let text = metadata[MessageKey.filters] else { return nil }
        return try? JSONDecoder().decode([AppliedFilter].self, from: Data(text.utf8))
    }

    /// Writes the received result `received` completed with the global model's values of the tensors
    /// the site's `exclude` filters left out, at `model`; false when nothing was left out (the caller
    /// links the file into place as it is). A tensor missing without a declared pattern is not filled,
    /// and the log names it: the aggregators match tensors by name and would leave it out or refuse the
    /// round (docs/filters.md, "exclude").
    func completeExcluded(_ received: String, filters: [AppliedFilter]?, round: Int, site: String, into model: String) -> Bool {
        let patterns = (filters ?? []).filter { $0.name == "exclude" }.flatMap { $0.patterns ?? [] }
        guard let globalPath = round == 1 ? state.plan.initialModel : globalModelPath(round - 1),
              FileSystem.exists(globalPath) else {
            if !patterns.isEmpty { logger.warning("round \(round): \(site) excluded tensors but there is no global model to take them from") }
            return false
        }
        do {
            let result = try SafetensorsReader(path: received)
            let global = try SafetensorsReader(path: globalPath)
            let missing = ExcludedTensors.missing(result: result, global: global, patterns: patterns)
            let undeclared = ExcludedTensors.missing(result: result, global: global, patterns: ["*"]).filter { t in !missing.contains { $0.name == t.name } }
            if !undeclared.isEmpty {
                logger.warning("round \(round): the result of \(site) lacks \(undeclared.count) tensor(s) of the global model without an exclude filter naming them (\(undeclared.prefix(5).map(\.name).joined(separator: ", "))\(undeclared.count > 5 ? ", …" : ""))")
            }
            guard !missing.isEmpty else { return false }
            try ExcludedTensors.complete(result: result, global: global, missing: missing, output: model)
            logger.info("round \(round): \(site) excluded \(missing.count) tensor(s); they keep their global values")
            return true
        } catch {
            // Linked as received: aggregation then names the tensor the result lacks.
            if !patterns.isEmpty { logger.warning("round \(round): cannot fill the tensors \(site) excluded from the global model: \(error)") }
            return false
        }
    }

    /// `record` with each client's privacy filters from its outcome.
    func withFilters(_ record: RoundRecord) -> RoundRecord {
        var record = record
        for site in record.clients.keys {
            let path = outcomePath(round: record.round, site: site)
            if let outcome = try? JSONFile.readIfPresent(ClientOutcome.self, from: path), let filters = outcome.filters {
                record.clients[site]?.filters = filters
            }
        }
        return record
    }
}
