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
        guard !inputs.isEmpty else { throw .noInputs }
        for input in inputs where !(input.weight.isFinite && input.weight >= 0) {
            throw .invalidWeight(client: input.label, weight: input.weight)
        }
        let totalWeight = inputs.reduce(0) { $0 + $1.weight }
        guard totalWeight > 0 || robust.rule != .mean else { throw .zeroTotalWeight }
        if case let .trimmedMean(trim) = robust.rule, trim < 0 || 2 * trim >= inputs.count {
            throw .invalidRule("trimmed-mean with trim \(trim) needs more than \(2 * max(trim, 0)) clients, got \(inputs.count): lower `trim`")
        }
        var all = inputs
        if let reference { all.append(AggregationInput(path: reference, weight: 0, label: "the previous global model")) }
        guard reference != nil || robust.maxUpdateNorm == nil else {
            throw .invalidRule("max_update_norm needs the model the round started from (an initial_model for round 1)")
        }
        var readers: [SafetensorsReader] = []
        for input in all {
            do {
                readers.append(try SafetensorsReader(path: input.path))
            } catch {
                throw .unreadable(client: input.label, path: input.path, reason: error.description)
            }
        }
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

        let writer: SafetensorsWriter
        do {
            writer = try SafetensorsWriter(path: output, tensors: plan.outputSpecs, metadata: readers[0].metadata)
        } catch {
            throw .io(path: output, reason: "cannot create the aggregated model: \(error)")
        }
        var bytesRead: Int64 = 0
        var sorted = [Double](repeating: 0, count: clients)
        do {
            for tensor in plan.tensors {
                try forEachSlice(tensor, slice: slice) { (range) throws(AggregationError) in
                    let n = range.count
                    let e = tensor.outputDType.byteSize
                    if !tensor.averaged {
                        try read(readers[0], tensor.clientTensors[0], bytes: Int64(range.lowerBound * e)..<Int64(range.upperBound * e),
                                 into: buffers.output)
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
                            for client in 0..<clients { sorted[client] = values[(client + 1) * slice + k] }
                            acc[k] = Self.combine(&sorted, rule: robust.rule, weights: inputs, totalWeight: totalWeight)
                        }
                        AggregationKernels.finish(accumulator: acc, count: n, totalWeight: 1, dtype: tensor.outputDType,
                                                  scratch: buffers.scratch, output: buffers.output.baseAddress!)
                    }
                    do {
                        try writer.append(UnsafeRawBufferPointer(rebasing: buffers.output[0..<(n * e)]))
                    } catch {
                        throw AggregationError.io(path: output, reason: "cannot write the aggregated model: \(error)")
                    }
                }
            }
            try writer.commit()
        } catch let error as AggregationError {
            writer.abort()
            throw error
        } catch {
            writer.abort()
            throw .io(path: output, reason: "cannot publish the aggregated model: \(error)")
        }
        let summary = AggregationSummary(
            clientCount: clients, totalWeight: totalWeight, tensorCount: plan.tensors.count,
            elementCount: plan.tensors.reduce(0) { $0 + $1.elementCount }, bytesRead: bytesRead,
            bytesWritten: writer.header.totalByteCount,
            workingMemoryBytes: buffers.byteCount + slice * (clients + 1) * 8,
            copiedFromFirstClient: plan.tensors.filter { !$0.averaged }.map(\.name))
        return (summary, scales)
    }

    /// One element: the clients' values in `values` (reordered in place for the order statistics).
    static func combine(_ values: inout [Double], rule: AggregatorRule, weights: [AggregationInput],
                        totalWeight: Double) -> Double {
        switch rule {
        case .mean:
            var s = 0.0
            for i in values.indices { s += weights[i].weight * values[i] }
            return s / totalWeight
        case .median:
            values.sort()
            let n = values.count
            return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2
        case let .trimmedMean(trim):
            values.sort()
            var s = 0.0
            for i in trim..<(values.count - trim) { s += values[i] }
            return s / Double(values.count - 2 * trim)
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
        try read(readers[client], info, bytes: Int64(range.lowerBound * e)..<Int64(range.upperBound * e), into: raw)
        AggregationKernels.accumulate(raw: UnsafeRawBufferPointer(raw), dtype: info.dtype, count: range.count, weight: 1,
                                      first: true, accumulator: out, scratch: buffers.scratch)
    }

    private func read(_ reader: SafetensorsReader, _ info: TensorInfo, bytes: Range<Int64>,
                      into buffer: UnsafeMutableRawBufferPointer) throws(AggregationError) {
        do {
            try reader.read(info, byteRange: bytes, into: buffer)
        } catch {
            throw .io(path: reader.path, reason: "cannot read tensor '\(info.name)': \(error.description)")
        }
    }
}
