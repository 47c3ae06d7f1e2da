import FerryTensors

/// How the clients' values of one element are combined (`aggregator:` in the server app).
public enum AggregatorRule: Sendable, Equatable, Codable {
    /// `Σ wᵢ·xᵢ / Σ wᵢ`, weighted by num_samples (FedAvg).
    case mean
    /// The coordinate-wise median (unweighted; the mean of the two middle values for an even count).
    case median
    /// The coordinate-wise mean after dropping the `trim` smallest and `trim` largest values
    /// (unweighted; needs more than `2·trim` clients).
    case trimmedMean(trim: Int)
}

/// Robust aggregation: an ``AggregatorRule`` and an optional bound on each client's update norm.
public struct RobustAggregation: Sendable, Equatable, Codable {
    public var rule: AggregatorRule
    /// Bound on `‖xᵢ − g‖₂` over all float tensors of client `i` (g: the model the round started from);
    /// a client above it is scaled to it: `xᵢ ← g + (C/‖xᵢ − g‖)·(xᵢ − g)`. nil: no bound.
    public var maxUpdateNorm: Double?

    public init(rule: AggregatorRule = .mean, maxUpdateNorm: Double? = nil) {
        self.rule = rule
        self.maxUpdateNorm = maxUpdateNorm
    }

    /// Plain FedAvg.
    public static let mean = RobustAggregation()
}

extension StreamingAggregator {
    /// Aggregates `inputs` with `robust` into `output` (atomically), streaming slice by slice.
    ///
    /// Memory: the output bytes of one slice (``bufferSize``) and, per thread, a cache-sized chunk of
    /// every client and of `reference` (about 1 MiB), whatever the number of clients; the norm bound
    /// reads every client once more beforehand. Slices of at least ``parallelThreshold`` elements are
    /// split across ``threads`` threads.
    ///
    /// The median and the trimmed mean run a sorting network over eight elements at a time and give
    /// the same bits as sorting each element's values (ties, ±0, NaN and infinities included).
    /// - Parameter reference: the model the round started from; required with ``RobustAggregation/maxUpdateNorm``.
    /// - Returns: the summary and, with a norm bound, each client's scale (1: not clipped).
    @discardableResult
    public func aggregate(_ inputs: [AggregationInput], robust: RobustAggregation, reference: String?,
                          into output: String) throws(AggregationError) -> (summary: AggregationSummary, scales: [Double]) {
        let totalWeight = try Self.totalWeight(inputs, positive: robust.rule == .mean)
        try Self.check(robust, clients: inputs.count)
        var all = inputs
        if let reference { all.append(AggregationInput(path: reference, weight: 0, label: "the previous global model")) }
        guard reference != nil || robust.maxUpdateNorm == nil else {
            throw .invalidRule("max_update_norm needs the model the round started from (an initial_model for round 1)")
        }
        let readers = try Self.openReaders(all)
        let plan = try AggregationPlan(inputs: all, readers: readers)
        let clients = inputs.count
        let combiner = try SliceCombiner.prepared(self, readers: readers, plan: plan, inputs: inputs, robust: robust,
                                                  totalWeight: totalWeight, fused: false)
        defer { combiner.deallocate() }

        let model = try AggregatedModelWriter(output: output, tensors: plan.outputSpecs, metadata: readers[0].metadata)
        let output = combiner.output
        var bytesRead: Int64 = 0
        try model.publish { () throws(AggregationError) in
            for tensor in plan.tensors {
                try Self.forEachSlice(tensor, slice: combiner.slice) { (range) throws(AggregationError) in
                    let n = range.count
                    let e = tensor.outputDType.byteSize
                    if !tensor.averaged {
                        try readSlice(readers[0], tensor.clientTensors[0], bytes: Int64(range.lowerBound * e)..<Int64(range.upperBound * e),
                                      into: output, label: inputs[0].label)
                        bytesRead += Int64(n * e)
                    } else {
                        try combiner.combine(tensor, range: range, loadReference: false) { lo, hi, part in
                            AggregationKernels.finish(accumulator: part.acc, count: hi - lo, totalWeight: 1,
                                                      dtype: tensor.outputDType, scratch: part.scratch,
                                                      output: combiner.output.baseAddress! + lo * e)
                        }
                        bytesRead += tensor.clientTensors.prefix(clients).reduce(0) { $0 + Int64(n * $1.dtype.byteSize) }
                    }
                    try model.append(UnsafeRawBufferPointer(rebasing: output[0..<(n * e)]))
                }
            }
        }
        let summary = AggregationSummary(
            clientCount: clients, totalWeight: totalWeight, tensorCount: plan.tensors.count,
            elementCount: plan.tensors.reduce(0) { $0 + $1.elementCount }, bytesRead: bytesRead,
            bytesWritten: model.writer.header.totalByteCount, workingMemoryBytes: combiner.byteCount,
            copiedFromFirstClient: plan.tensors.filter { !$0.averaged }.map(\.name))
        return (summary, combiner.scales)
    }

    /// Checks that `robust` can combine `clients` clients (a trimmed mean keeps at least one value).
    static func check(_ robust: RobustAggregation, clients: Int) throws(AggregationError) {
        if case let .trimmedMean(trim) = robust.rule, trim < 0 || 2 * trim >= clients {
            throw .invalidRule("trimmed-mean with trim \(trim) needs more than \(2 * max(trim, 0)) clients, got \(clients): lower `trim`")
        }
    }
}
