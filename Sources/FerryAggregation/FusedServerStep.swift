import FerryTensors

extension ServerOptimizer {
    /// Aggregates the clients' results and applies one step from `previous`, in one streaming pass:
    /// the same bytes as ``StreamingAggregator/aggregate(_:robust:reference:into:)`` (or the plain
    /// FedAvg for `.mean` without a norm bound) into a file, then
    /// ``step(previous:averaged:state:output:stateOutput:sliceElements:)`` from it, without writing
    /// or reading that intermediate model. Slices are split across `aggregator`'s threads.
    ///
    /// - Parameters:
    ///   - inputs: the clients' results (weights: num_samples, used by `.mean`).
    ///   - aggregation: the rule and optional norm bound (whose reference is `previous`).
    ///   - previous: the global model the round started from (`g`).
    ///   - state: the previous round's state file, nil in the first round (zeros).
    ///   - aggregator: slice size (memory) and threads.
    /// - Returns: the aggregation's summary and, with a norm bound, each client's scale (1: not clipped).
    @discardableResult
    public func step(clients inputs: [AggregationInput], aggregation: RobustAggregation = .mean, previous: String,
                     state: String?, output: String, stateOutput: String,
                     aggregator: StreamingAggregator = StreamingAggregator())
        throws(AggregationError) -> (summary: AggregationSummary, scales: [Double]) {
        let totalWeight = try StreamingAggregator.totalWeight(inputs, positive: aggregation.rule == .mean)
        try StreamingAggregator.check(aggregation, clients: inputs.count)
        let all = inputs + [AggregationInput(path: previous, weight: 0, label: "the previous global model")]
        let readers = try StreamingAggregator.openReaders(all)
        let plan = try AggregationPlan(inputs: all, readers: readers)
        let s = try state.map { path throws(AggregationError) in
            try StreamingAggregator.openReaders([AggregationInput(path: path, weight: 0, label: "the optimizer state")])[0]
        }
        let moments = plan.tensors.filter(\.averaged)
        let stateInfos = try stateTensors(s, moments: moments)
        let clients = inputs.count
        let combiner = try SliceCombiner.prepared(aggregator, readers: readers, plan: plan, inputs: inputs,
                                                  robust: aggregation, totalWeight: totalWeight, fused: true)
        defer { combiner.deallocate() }
        let (stateWriter, writer) = try writers(plan, moments: moments, metadata: readers[0].metadata, output: output,
                                                stateOutput: stateOutput)
        let out = combiner.output, mv = combiner.moments!
        var bytesRead: Int64 = 0
        try publish(stateWriter, writer, output: output) { () throws in
            for tensor in plan.tensors {
                try StreamingAggregator.forEachSlice(tensor, slice: combiner.slice) { (range) throws(AggregationError) in
                    let n = range.count
                    let e = tensor.outputDType.byteSize
                    if !tensor.averaged {
                        try aggregator.readSlice(readers[0], tensor.clientTensors[0],
                                                 bytes: Int64(range.lowerBound * e)..<Int64(range.upperBound * e),
                                                 into: out, label: inputs[0].label)
                        bytesRead += Int64(n * e)
                    } else {
                        let stateInfo = stateInfos[tensor.name]
                        try combiner.combine(tensor, range: range, loadReference: true) { (lo, hi, part) throws(AggregationError) in
                            try self.stepChunk(combiner, part, tensor: tensor, range: range, lo: lo, hi: hi, state: s,
                                               stateInfo: stateInfo)
                        }
                        bytesRead += tensor.clientTensors.prefix(clients).reduce(0) { $0 + Int64(n * $1.dtype.byteSize) }
                    }
                    do {
                        if tensor.averaged {
                            try stateWriter.append(UnsafeRawBufferPointer(start: UnsafeRawPointer(mv), count: n * 8))
                        }
                        try writer.append(UnsafeRawBufferPointer(rebasing: out[0..<(n * e)]))
                    } catch {
                        throw .io(path: output, reason: "cannot write the new global model or the optimizer state: \(error)")
                    }
                }
            }
        }
        let summary = AggregationSummary(
            clientCount: clients, totalWeight: totalWeight, tensorCount: plan.tensors.count,
            elementCount: plan.tensors.reduce(0) { $0 + $1.elementCount }, bytesRead: bytesRead,
            bytesWritten: writer.header.totalByteCount, workingMemoryBytes: combiner.byteCount,
            copiedFromFirstClient: plan.tensors.filter { !$0.averaged }.map(\.name))
        return (summary, combiner.scales)
    }

    /// The step on one combined chunk: the aggregate rounded to the tensor's dtype (as the aggregated
    /// model file would hold it), the moments, the optimizer, the new model's bytes.
    private func stepChunk(_ combiner: SliceCombiner, _ part: SliceCombiner.Part, tensor: AggregationPlan.Tensor,
                           range: Range<Int>, lo: Int, hi: Int, state: SafetensorsReader?,
                           stateInfo: TensorInfo?) throws(AggregationError) {
        let count = hi - lo
        let dtype = tensor.outputDType
        let a = part.acc
        let bytes = combiner.output.baseAddress! + lo * dtype.byteSize
        AggregationKernels.finish(accumulator: a, count: count, totalWeight: 1, dtype: dtype, scratch: part.scratch,
                                  output: bytes)
        AggregationKernels.accumulate(raw: UnsafeRawBufferPointer(start: bytes, count: count * dtype.byteSize), dtype: dtype,
                                      count: count, weight: 1, first: true, accumulator: a, scratch: part.scratch)
        let mv = combiner.moments! + 2 * lo
        if let state, let stateInfo {
            let start = range.lowerBound + lo
            do {
                try state.read(stateInfo, byteRange: Int64(start * 8)..<Int64((start + count) * 8),
                               into: UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(mv), count: count * 8))
            } catch {
                throw .io(path: state.path, reason: "cannot read tensor '\(stateInfo.name)': \(error.description)")
            }
        } else {
            mv.update(repeating: 0, count: 2 * count)
        }
        let result = part.rows + combiner.chunk  // row 1: free once the chunk is combined
        apply(g: part.rows, a: a, moments: mv, out: result, count: count)
        AggregationKernels.finish(accumulator: result, count: count, totalWeight: 1, dtype: dtype, scratch: part.scratch,
                                  output: bytes)
    }
}
