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
    /// Memory: one slice of every client at once (clients × ``sliceElements`` × 8 bytes) plus one
    /// slice of `reference`; the norm bound reads every client once more beforehand.
    /// - Parameter reference: the model the round started from; required with ``RobustAggregation/maxUpdateNorm``.
    /// - Returns: the summary and, with a norm bound, each client's scale (1: not clipped).
    @discardableResult
    public func aggregate(_ inputs: [AggregationInput], robust: RobustAggregation, reference: String?,
                          into output: String) throws(AggregationError) -> (summary: AggregationSummary, scales: [Double]) {
        let totalWeight = try Self.totalWeight(inputs, positive: robust.rule == .mean)
        if case let .trimmedMean(trim) = robust.rule, trim < 0 || 2 * trim >= inputs.count {
            throw .invalidRule("trimmed-mean with trim \(trim) needs more than \(2 * max(trim, 0)) clients, got \(inputs.count): lower `trim`")
        }
        var all = inputs
        if let reference { all.append(AggregationInput(path: reference, weight: 0, label: "the previous global model")) }
        guard reference != nil || robust.maxUpdateNorm == nil else {
            throw .invalidRule("max_update_norm needs the model the round started from (an initial_model for round 1)")
        }
        let readers = try Self.openReaders(all)
        let plan = try AggregationPlan(inputs: all, readers: readers)
        let clients = inputs.count
        let slice = sliceElements
        let values = UnsafeMutablePointer<Double>.allocate(capacity: slice * (clients + 1))
        defer { values.deallocate() }
        let buffers = SliceBuffers(elements: slice)
        defer { buffers.deallocate() }

        // Pass 1 (norm bound only): each client's squared distance to the reference.
        var scales = [Double](repeating: 1, count: clients)
        if let bound = robust.maxUpdateNorm {
            var squares = [Double](repeating: 0, count: clients)
            for tensor in plan.tensors where tensor.averaged {
                try forEachSlice(tensor, slice: slice) { (range) throws(AggregationError) in
                    try load(tensor, client: clients, range: range, readers: readers, into: values, buffers: buffers)
                    for client in 0..<clients {
                        let x = values + (client + 1) * slice
                        try load(tensor, client: client, range: range, readers: readers, into: x, buffers: buffers)
                        var s = 0.0
                        for k in 0..<range.count { let d = x[k] - values[k]; s += d * d }
                        squares[client] += s
                    }
                }
            }
            scales = squares.map { $0.squareRoot() > bound ? bound / $0.squareRoot() : 1 }
        }

        let model = try AggregatedModelWriter(output: output, tensors: plan.outputSpecs, metadata: readers[0].metadata)
        var bytesRead: Int64 = 0
        let column = UnsafeMutablePointer<Double>.allocate(capacity: clients)
        defer { column.deallocate() }
        let clientWeights = inputs.map(\.weight)
        try model.publish { () throws(AggregationError) in
            for tensor in plan.tensors {
                try forEachSlice(tensor, slice: slice) { (range) throws(AggregationError) in
                    let n = range.count
                    let e = tensor.outputDType.byteSize
                    if !tensor.averaged {
                        try readSlice(readers[0], tensor.clientTensors[0], bytes: Int64(range.lowerBound * e)..<Int64(range.upperBound * e),
                                      into: buffers.output, label: inputs[0].label)
                        bytesRead += Int64(n * e)
                    } else {
                        if reference != nil, robust.maxUpdateNorm != nil {
                            try load(tensor, client: clients, range: range, readers: readers, into: values, buffers: buffers)
                        }
                        for client in 0..<clients {
                            let x = values + (client + 1) * slice
                            try load(tensor, client: client, range: range, readers: readers, into: x, buffers: buffers)
                            bytesRead += Int64(n * tensor.clientTensors[client].dtype.byteSize)
                            if scales[client] < 1 {
                                let s = scales[client]
                                for k in 0..<n { x[k] = values[k] + s * (x[k] - values[k]) }
                            }
                        }
                        let acc = buffers.accumulator
                        for k in 0..<n {
                            for client in 0..<clients { column[client] = values[(client + 1) * slice + k] }
                            acc[k] = Self.combine(column, clients, rule: robust.rule, weights: clientWeights,
                                                  totalWeight: totalWeight)
                        }
                        AggregationKernels.finish(accumulator: acc, count: n, totalWeight: 1, dtype: tensor.outputDType,
                                                  scratch: buffers.scratch, output: buffers.output.baseAddress!)
                    }
                    try model.append(UnsafeRawBufferPointer(rebasing: buffers.output[0..<(n * e)]))
                }
            }
        }
        let summary = AggregationSummary(
            clientCount: clients, totalWeight: totalWeight, tensorCount: plan.tensors.count,
            elementCount: plan.tensors.reduce(0) { $0 + $1.elementCount }, bytesRead: bytesRead,
            bytesWritten: model.writer.header.totalByteCount,
            workingMemoryBytes: buffers.byteCount + slice * (clients + 1) * 8,
            copiedFromFirstClient: plan.tensors.filter { !$0.averaged }.map(\.name))
        return (summary, scales)
    }

    /// One element: the `n` clients' values in `values` (sorted in place for the order statistics:
    /// an insertion sort, the fastest for the few clients of a round).
    @inline(__always)
    static func combine(_ values: UnsafeMutablePointer<Double>, _ n: Int, rule: AggregatorRule, weights: [Double],
                        totalWeight: Double) -> Double {
        switch rule {
        case .mean:
            var s = 0.0
            for i in 0..<n { s += weights[i] * values[i] }
            return s / totalWeight
        case .median:
            insertionSort(values, n)
            return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2
        case let .trimmedMean(trim):
            insertionSort(values, n)
            var s = 0.0
            for i in trim..<(n - trim) { s += values[i] }
            return s / Double(n - 2 * trim)
        }
    }

    @inline(__always)
    private static func insertionSort(_ v: UnsafeMutablePointer<Double>, _ n: Int) {
        var i = 1
        while i < n {
            let x = v[i]
            var j = i - 1
            while j >= 0, v[j] > x {
                v[j + 1] = v[j]
                j -= 1
            }
            v[j + 1] = x
            i += 1
        }
    }

    private func forEachSlice(_ tensor: AggregationPlan.Tensor, slice: Int,
                              _ body: (Range<Int>) throws(AggregationError) -> Void) throws(AggregationError) {
        let count = Int(tensor.elementCount)
        var start = 0
        while start < count {
            let n = min(slice, count - start)
            try body(start..<(start + n))
            start += n
        }
    }

    /// Reads elements `range` of `client`'s tensor as `Double`s into `out`.
    private func load(_ tensor: AggregationPlan.Tensor, client: Int, range: Range<Int>, readers: [SafetensorsReader],
                      into out: UnsafeMutablePointer<Double>, buffers: SliceBuffers) throws(AggregationError) {
        let info = tensor.clientTensors[client]
        let e = info.dtype.byteSize
        let raw = UnsafeMutableRawBufferPointer(rebasing: buffers.raw[0..<(range.count * 8)])
        try readSlice(readers[client], info, bytes: Int64(range.lowerBound * e)..<Int64(range.upperBound * e), into: raw,
                      label: readers[client].path)
        AggregationKernels.accumulate(raw: UnsafeRawBufferPointer(raw), dtype: info.dtype, count: range.count, weight: 1,
                                      first: true, accumulator: out, scratch: buffers.scratch)
    }
}
