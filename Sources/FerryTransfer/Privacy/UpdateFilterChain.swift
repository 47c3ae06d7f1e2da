import FerrySupport
import FerryTensors
import Foundation

/// Applies a site's privacy filters to its result: reads the trained model and the global model it
/// started from (the update is their difference), and writes the model to send, `global + filtered
/// update`, without the excluded tensors (docs/filters.md).
///
/// Memory is bounded by ``bufferElements`` whatever the model's size: filters that need a statistic of
/// the whole update (dp-gaussian's L2 norm, percentile's cutoff) get it from streaming passes over the
/// two files before the last pass writes; each pass recomputes the earlier filters' output slice by
/// slice (their noise is seeded per tensor, so every pass sees the same values).
public struct UpdateFilterChain: Sendable {
    /// The filters, in the job's order.
    public var filters: [PrivacyFilter]
    /// The seed of dp-gaussian's noise (a filter's own `seed`, when set, replaces it).
    public var noiseSeed: UInt64
    /// Values per slice: every buffer holds at most this many values.
    public var bufferElements: Int

    /// Creates a chain.
    public init(filters: [PrivacyFilter], noiseSeed: UInt64, bufferElements: Int = 1 << 18) {
        self.filters = filters
        self.noiseSeed = noiseSeed
        self.bufferElements = max(1, bufferElements)
    }

    /// What the chain did: the records sent with the result, and what stays at the site.
    public struct Outcome: Sendable, Equatable {
        /// One record per filter, in order (sent to the server).
        public var applied: [AppliedFilter]
        /// The names of the tensors left out.
        public var excluded: [String]
        /// dp-gaussian: the update's L2 norm before clipping, per filter in order (site only).
        public var updateNorms: [Double]
        /// percentile: the cutoff of |delta|, per filter in order (site only).
        public var cutoffs: [Double]
    }

    /// Filters `model` against `reference` (the global model the training started from; nil when there
    /// is none, which only `exclude` accepts) into a new safetensors file at `output`, written atomically.
    public func apply(model: String, reference: String?, output: String) throws(PrivacyFilterError) -> Outcome {
        let modelReader = try Self.open(model)
        let numeric = filters.contains { $0.needsReference }
        var referenceReader: SafetensorsReader?
        if numeric {
            guard let reference, FileSystem.exists(reference) else { throw .noReference(path: reference ?? "(none)") }
            referenceReader = try Self.open(reference)
        }
        let items = try plan(modelReader, referenceReader)
        var run = UpdateFilterRun(chain: self, model: modelReader, reference: referenceReader, items: items)
        var outcome = Outcome(applied: [], excluded: items.filter { $0.droppedAt != nil }.map(\.info.name),
                              updateNorms: [], cutoffs: [])
        for (stage, filter) in filters.enumerated() {
            var record = AppliedFilter(name: filter.name)
            switch filter {
            case .exclude(let patterns):
                record.patterns = patterns
                record.excludedTensors = items.filter { $0.droppedAt == stage }.count
            case .dpGaussian(let settings):
                let norm = try run.updateNorm(stage: stage)
                run.scales[stage] = norm > settings.clip ? settings.clip / norm : 1
                outcome.updateNorms.append(norm)
                record.clip = settings.clip
                record.noiseMultiplier = settings.noiseMultiplier
                record.noiseStd = settings.noiseMultiplier * settings.clip
                record.seedSource = settings.seed == nil ? "site" : "job"
                record.values = run.values(stage: stage)
            case .percentile(let settings):
                let cutoff = try run.cutoff(stage: stage, percentile: settings.percentile)
                run.cutoffs[stage] = cutoff
                outcome.cutoffs.append(cutoff)
                record.percentile = settings.percentile
                record.gamma = settings.gamma
                record.values = run.values(stage: stage)
            }
            outcome.applied.append(record)
        }
        try run.write(output: output)
        return outcome
    }

    /// The noise seed of the dp-gaussian filter at `stage`.
    func seed(stage: Int) -> UInt64 {
        if case .dpGaussian(let settings) = filters[stage], let seed = settings.seed { return seed }
        return noiseSeed
    }

    private static func open(_ path: String) throws(PrivacyFilterError) -> SafetensorsReader {
        do { return try SafetensorsReader(path: path) } catch { throw .io(path: path, reason: error.description) }
    }

    /// Each tensor of the result, where an `exclude` drops it, and its global counterpart.
    private func plan(_ model: SafetensorsReader, _ reference: SafetensorsReader?) throws(PrivacyFilterError) -> [FilterItem] {
        let firstNumeric = filters.firstIndex { $0.needsReference }
        var items: [FilterItem] = []
        for info in model.tensors {
            let droppedAt = filters.indices.first { stage in
                if case .exclude(let patterns) = filters[stage] {
                    return patterns.contains { fnmatch($0, info.name, 0) == 0 }
                }
                return false
            }
            var item = FilterItem(info: info, reference: nil, droppedAt: droppedAt)
            if let firstNumeric, item.isAlive(at: firstNumeric) {
                if !item.isFloat {
                    let noised = filters.indices.contains { stage in
                        if case .dpGaussian = filters[stage] { return item.isAlive(at: stage) }
                        return false
                    }
                    if noised { throw .notFloat(tensor: info.name, dtype: info.dtype.rawValue) }
                } else {
                    guard let global = reference?.header.tensor(named: info.name) else {
                        throw .mismatch(tensor: info.name, reason: "not in the global model")
                    }
                    guard global.shape == info.shape else {
                        throw .mismatch(tensor: info.name, reason: "shape \(info.shape) but \(global.shape) in the global model")
                    }
                    guard FilterItem.floatTypes.contains(global.dtype) else {
                        throw .mismatch(tensor: info.name, reason: "\(global.dtype.rawValue) in the global model")
                    }
                    item.reference = global
                }
            }
            items.append(item)
        }
        return items
    }
}

/// A tensor of the result as the chain handles it.
struct FilterItem: Sendable {
    static let floatTypes: Set<DType> = [.f32, .f16, .bf16, .f64]
    var info: TensorInfo
    /// Its global counterpart, set when a value-changing filter reaches it.
    var reference: TensorInfo?
    /// The `exclude` filter that drops it.
    var droppedAt: Int?

    var isFloat: Bool { Self.floatTypes.contains(info.dtype) }
    /// Whether the filter at `stage` sees the tensor.
    func isAlive(at stage: Int) -> Bool { droppedAt.map { $0 > stage } ?? true }
}
