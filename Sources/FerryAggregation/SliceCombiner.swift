import CFerryAggregationKernels
import Dispatch
import FerryTensors

/// One slice of a robust aggregation (or of a fused FedOpt step): reads the clients' values of a
/// range of elements, combines them element by element with an ``AggregatorRule``, and hands each
/// combined chunk to a continuation that writes its part of ``output``, on up to
/// ``StreamingAggregator/threads`` threads.
///
/// Each thread works chunk by chunk (``chunk`` elements, sized so that every client's values of a
/// chunk stay in the CPU cache): row 0 of its rows holds the reference model, rows 1...clients the
/// clients when the rule or a norm bound needs every client's values at once (the plain mean
/// accumulates client by client instead; a fused step then uses row 1 for its result). Memory is
/// the slice's output bytes plus about 1 MiB per thread, whatever the number of clients.
final class SliceCombiner: @unchecked Sendable {
    /// One thread's buffers for one chunk.
    struct Part {
        /// Raw input bytes (up to 8 per element).
        let raw: UnsafeMutableRawPointer
        /// F32 scratch for the F16/BF16 conversions.
        let scratch: UnsafeMutablePointer<Float>
        /// The combined values.
        let acc: UnsafeMutablePointer<Double>
        /// Rows of ``SliceCombiner/chunk`` doubles: the reference, then the clients.
        let rows: UnsafeMutablePointer<Double>
        /// One element's values (the order statistics' reference path).
        let column: UnsafeMutablePointer<Double>
    }

    let aggregator: StreamingAggregator
    /// The clients' readers, then the reference model's (when there is one).
    let readers: [SafetensorsReader]
    let clients: Int
    let rule: AggregatorRule
    let weights: [Double]
    let totalWeight: Double
    /// Each client's norm-bound scale (1: unchanged); set before the slices are combined.
    var scales: [Double]
    let keepsClientRows: Bool
    /// Elements per slice (the unit of output writes).
    let slice: Int
    /// Elements per chunk (the unit of combining).
    let chunk: Int
    let rowCount: Int
    /// The output bytes of one slice (up to 8 per element).
    let output: UnsafeMutableRawBufferPointer
    /// FedOpt's moments of one slice (`m`, `v` interleaved), when a fused step was asked for.
    let moments: UnsafeMutablePointer<Float>?
    private let threads: Int
    private let raw: UnsafeMutableRawPointer
    private let scratch: UnsafeMutablePointer<Float>
    private let acc: UnsafeMutablePointer<Double>
    private let rows: UnsafeMutablePointer<Double>
    private let columns: UnsafeMutablePointer<Double>

    /// - Parameters:
    ///   - bounded: a norm bound will scale some clients (their rows must be kept).
    ///   - fused: a FedOpt step follows (the reference row, a result row and the moments are needed).
    init(aggregator: StreamingAggregator, readers: [SafetensorsReader], clients: Int, rule: AggregatorRule,
         weights: [Double], totalWeight: Double, bounded: Bool, fused: Bool) {
        self.aggregator = aggregator
        self.readers = readers
        self.clients = clients
        self.rule = rule
        self.weights = weights
        self.totalWeight = totalWeight
        scales = Array(repeating: 1, count: clients)
        keepsClientRows = rule != .mean || bounded
        rowCount = keepsClientRows ? clients + 1 : 2
        slice = aggregator.sliceElements
        // About 1 MiB of rows per thread: a chunk of every client stays in the L2 cache.
        chunk = min(slice, max(64, min(1 << 14, (1 << 17) / rowCount) / 64 * 64))
        threads = aggregator.threads
        output = .allocate(byteCount: slice * 8, alignment: 64)
        moments = fused ? .allocate(capacity: 2 * slice) : nil
        raw = .allocate(byteCount: threads * chunk * 8, alignment: 64)
        scratch = .allocate(capacity: threads * chunk)
        acc = .allocate(capacity: threads * chunk)
        rows = .allocate(capacity: threads * rowCount * chunk)
        columns = .allocate(capacity: threads * clients)
    }

    /// A combiner of `inputs` (their readers first in `readers`, the reference after) under `robust`,
    /// with the norm bound's scales measured; the caller deallocates it.
    static func prepared(_ aggregator: StreamingAggregator, readers: [SafetensorsReader], plan: AggregationPlan,
                         inputs: [AggregationInput], robust: RobustAggregation, totalWeight: Double,
                         fused: Bool) throws(AggregationError) -> SliceCombiner {
        let combiner = SliceCombiner(aggregator: aggregator, readers: readers, clients: inputs.count, rule: robust.rule,
                                     weights: inputs.map(\.weight), totalWeight: totalWeight,
                                     bounded: robust.maxUpdateNorm != nil, fused: fused)
        if let bound = robust.maxUpdateNorm {
            do {
                combiner.scales = try combiner.normScales(plan, bound: bound)
            } catch {
                combiner.deallocate()
                throw error
            }
        }
        return combiner
    }

    func deallocate() {
        output.deallocate()
        moments?.deallocate()
        raw.deallocate()
        scratch.deallocate()
        acc.deallocate()
        rows.deallocate()
        columns.deallocate()
    }

    /// Bytes of the working buffers.
    var byteCount: Int {
        slice * 8 + (moments == nil ? 0 : slice * 8) + threads * (chunk * (8 + 4 + 8 + rowCount * 8) + clients * 8)
    }

    private func part(_ index: Int) -> Part {
        Part(raw: raw + index * chunk * 8, scratch: scratch + index * chunk, acc: acc + index * chunk,
             rows: rows + index * rowCount * chunk, column: columns + index * clients)
    }

    /// Combines elements `range` of `tensor` chunk by chunk into each part's `acc`, calling
    /// `body(lo, hi, part)` after each chunk `lo..<hi` (offsets from `range.lowerBound`), on the part's thread.
    /// - Parameter loadReference: also read the reference model into row 0 (always done when a
    ///   client is scaled by the norm bound).
    func combine(_ tensor: AggregationPlan.Tensor, range: Range<Int>, loadReference: Bool,
                 then body: @escaping @Sendable (Int, Int, Part) throws(AggregationError) -> Void) throws(AggregationError) {
        let reference = loadReference || scales.contains { $0 < 1 }
        try SliceParts.run(count: range.count, threads: threads, threshold: aggregator.parallelThreshold) { index, start, end in
            let buffers = self.part(index)
            var lo = start
            while lo < end {
                let hi = min(end, lo + self.chunk)
                if reference {
                    try self.load(tensor, client: self.clients, range: range, lo: lo, hi: hi, into: buffers.rows, buffers)
                }
                try self.combineChunk(tensor, range: range, lo: lo, hi: hi, buffers)
                try body(lo, hi, buffers)
                lo = hi
            }
        }
    }

    private func combineChunk(_ tensor: AggregationPlan.Tensor, range: Range<Int>, lo: Int, hi: Int,
                              _ p: Part) throws(AggregationError) {
        let count = hi - lo
        guard keepsClientRows else {
            // The weighted mean, accumulated as StreamingAggregator's FedAvg does (same bytes).
            for client in 0..<clients {
                let bytes = try read(tensor, client: client, range: range, lo: lo, hi: hi, p)
                AggregationKernels.accumulate(raw: bytes, dtype: tensor.clientTensors[client].dtype, count: count,
                                              weight: weights[client], first: client == 0, accumulator: p.acc,
                                              scratch: p.scratch)
            }
            for k in 0..<count { p.acc[k] = p.acc[k] / totalWeight }
            return
        }
        let g = p.rows
        for client in 0..<clients {
            let x = p.rows + (client + 1) * chunk
            try load(tensor, client: client, range: range, lo: lo, hi: hi, into: x, p)
            let s = scales[client]
            if s < 1 {
                for k in 0..<count { x[k] = g[k] + s * (x[k] - g[k]) }
            }
        }
        let first = p.rows + chunk
        switch rule {
        case .mean:
            for k in 0..<count { p.acc[k] = 0 }
            for client in 0..<clients {
                let x = first + client * chunk, w = weights[client]
                for k in 0..<count { p.acc[k] += w * x[k] }
            }
            for k in 0..<count { p.acc[k] = p.acc[k] / totalWeight }
        case .median:
            ferry_agg_order_statistic(first, chunk, clients, count, FERRY_AGG_MEDIAN, 0, p.acc, p.column)
        case let .trimmedMean(trim):
            ferry_agg_order_statistic(first, chunk, clients, count, FERRY_AGG_TRIMMED_MEAN, trim, p.acc, p.column)
        }
    }

    /// Reads elements `range.lowerBound + lo ..< range.lowerBound + hi` of `client`'s tensor (the
    /// reference: `client == clients`) as `Double`s into `out`.
    private func load(_ tensor: AggregationPlan.Tensor, client: Int, range: Range<Int>, lo: Int, hi: Int,
                      into out: UnsafeMutablePointer<Double>, _ p: Part) throws(AggregationError) {
        let bytes = try read(tensor, client: client, range: range, lo: lo, hi: hi, p)
        AggregationKernels.accumulate(raw: bytes, dtype: tensor.clientTensors[client].dtype, count: hi - lo, weight: 1,
                                      first: true, accumulator: out, scratch: p.scratch)
    }

    private func read(_ tensor: AggregationPlan.Tensor, client: Int, range: Range<Int>, lo: Int, hi: Int,
                      _ p: Part) throws(AggregationError) -> UnsafeRawBufferPointer {
        let info = tensor.clientTensors[client]
        let e = info.dtype.byteSize
        let buffer = UnsafeMutableRawBufferPointer(start: p.raw, count: (hi - lo) * e)
        try aggregator.readSlice(readers[client], info,
                                 bytes: Int64((range.lowerBound + lo) * e)..<Int64((range.lowerBound + hi) * e),
                                 into: buffer, label: readers[client].path)
        return UnsafeRawBufferPointer(buffer)
    }

    /// Each client's norm-bound scale: `bound / ‖xᵢ − g‖` where that is above `bound`, else 1
    /// (one more pass over every client and the reference, before the slices are combined).
    func normScales(_ plan: AggregationPlan, bound: Double) throws(AggregationError) -> [Double] {
        var squares = [Double](repeating: 0, count: clients)
        var sums = [Double](repeating: 0, count: clients)
        let p = part(0)
        for tensor in plan.tensors where tensor.averaged {
            // Per slice, a sum carried across its chunks in element order: the same additions as one
            // loop over the slice.
            try StreamingAggregator.forEachSlice(tensor, slice: slice) { (range) throws(AggregationError) in
                for client in 0..<clients { sums[client] = 0 }
                var lo = 0
                while lo < range.count {
                    let hi = min(range.count, lo + chunk), n = hi - lo
                    try load(tensor, client: clients, range: range, lo: lo, hi: hi, into: p.rows, p)
                    let x = p.rows + chunk
                    for client in 0..<clients {
                        try load(tensor, client: client, range: range, lo: lo, hi: hi, into: x, p)
                        var s = sums[client]
                        for k in 0..<n { let d = x[k] - p.rows[k]; s += d * d }
                        sums[client] = s
                    }
                    lo = hi
                }
                for client in 0..<clients { squares[client] += sums[client] }
            }
        }
        return squares.map { $0.squareRoot() > bound ? bound / $0.squareRoot() : 1 }
    }
}

extension StreamingAggregator {
    /// Calls `body` with each range of at most `slice` elements of `tensor`, in order.
    static func forEachSlice(_ tensor: AggregationPlan.Tensor, slice: Int,
                             _ body: (Range<Int>) throws(AggregationError) -> Void) throws(AggregationError) {
        let count = Int(tensor.elementCount)
        var start = 0
        while start < count {
            let n = min(slice, count - start)
            try body(start..<(start + n))
            start += n
        }
    }
}
