import Dispatch
import FerryTensors
import Foundation

/// Federated averaging over clients' result files, streamed tensor by tensor and, within a
/// tensor, slice by slice.
///
/// The output is `Σ wᵢ·xᵢ / Σ wᵢ` element by element, with `wᵢ` the clients' `num_samples`.
/// Products are accumulated in `Double` (exact for F16/BF16 inputs and weights below 2²⁹, a single
/// rounding per addition for F32), divided once by the total weight, and rounded once more to the
/// output dtype (F16 and BF16 go through F32: round to nearest even at each step).
///
/// Memory: one slice of ``sliceElements`` elements is processed at a time (the clients are read one
/// after another into the same buffer), so the working set is about 3.5 × ``bufferSize`` bytes
/// whatever the number of clients and the model size; NVFlare's FedAvg holds (clients + 2) models.
///
/// Output dtypes: each tensor keeps the first client's dtype (the source dtype the clients
/// received). Float tensors of other clients may be any of F32/F16/BF16/F64. Integer and
/// boolean tensors (step counters, token ids) are not averaged: they are copied from the first
/// client, whose dtype every client must share. The output's metadata is the first client's.
public struct StreamingAggregator: Sendable {
    /// Bytes of the `Double` accumulator for one slice (default 4 MiB: 512 Ki elements).
    public var bufferSize: Int
    /// Threads used on slices of at least ``parallelThreshold`` elements (default 2).
    public var threads: Int
    /// Smallest slice worth splitting across threads.
    public var parallelThreshold: Int

    /// Creates an aggregator.
    /// - Parameters:
    ///   - bufferSize: accumulator bytes per slice; the working set is about 3.5× this.
    ///   - threads: threads for large slices (1 disables parallelism).
    public init(bufferSize: Int = 4 << 20, threads: Int = 2, parallelThreshold: Int = 1 << 16) {
        self.bufferSize = bufferSize
        self.threads = max(1, threads)
        self.parallelThreshold = parallelThreshold
    }

    /// Elements per slice.
    public var sliceElements: Int { max(64, bufferSize / 8) }

    /// Averages `inputs` into a new safetensors file at `output` (written atomically).
    /// - Parameter progress: called with (output data bytes written, total) after each slice.
    /// - Throws: ``AggregationError`` naming the client and tensor; nothing is written then.
    @discardableResult
    public func aggregate(_ inputs: [AggregationInput], into output: String,
                          progress: ((Int64, Int64) -> Void)? = nil) throws(AggregationError) -> AggregationSummary {
        let totalWeight = try Self.totalWeight(inputs, positive: true)

        let readers = try Self.openReaders(inputs)
        let plan = try AggregationPlan(inputs: inputs, readers: readers)

        let model = try AggregatedModelWriter(output: output, tensors: plan.outputSpecs, metadata: readers[0].metadata)
        let writer = model.writer
        let slice = sliceElements
        let buffers = SliceBuffers(elements: slice)
        defer { buffers.deallocate() }
        let weights = inputs.map(\.weight)
        var bytesRead: Int64 = 0
        let total = writer.header.dataByteCount
        try model.publish { () throws(AggregationError) in
            for tensorIndex in plan.tensors.indices {
                let tensor = plan.tensors[tensorIndex]
                let count = Int(tensor.elementCount)
                var start = 0
                while start < count {
                    let n = min(slice, count - start)
                    let outBytes: Int
                    if tensor.averaged {
                        try averageSlice(tensor: tensor, readers: readers, weights: weights, totalWeight: totalWeight,
                                         range: start..<(start + n), buffers: buffers)
                        bytesRead += tensor.clientTensors.reduce(0) { $0 + Int64(n * $1.dtype.byteSize) }
                        outBytes = n * tensor.outputDType.byteSize
                    } else {
                        let e = tensor.outputDType.byteSize
                        let info = tensor.clientTensors[0]
                        try readSlice(readers[0], info, bytes: Int64(start * e)..<Int64((start + n) * e),
                                      into: buffers.output, label: inputs[0].label)
                        bytesRead += Int64(n * e)
                        outBytes = n * e
                    }
                    try model.append(UnsafeRawBufferPointer(rebasing: buffers.output[0..<outBytes]))
                    progress?(writer.dataBytesWritten, total)
                    start += n
                }
            }
        }
        return AggregationSummary(
            clientCount: inputs.count, totalWeight: totalWeight, tensorCount: plan.tensors.count,
            elementCount: plan.tensors.reduce(0) { $0 + $1.elementCount }, bytesRead: bytesRead,
            bytesWritten: writer.header.totalByteCount, workingMemoryBytes: buffers.byteCount,
            copiedFromFirstClient: plan.tensors.filter { !$0.averaged }.map(\.name))
    }

    /// Averages elements `range` of one tensor into `buffers.output`, in up to ``threads`` parts.
    private func averageSlice(tensor: AggregationPlan.Tensor, readers: [SafetensorsReader], weights: [Double],
                              totalWeight: Double, range: Range<Int>, buffers: SliceBuffers) throws(AggregationError) {
        try SliceParts.run(count: range.count, threads: threads, threshold: parallelThreshold) { _, lo, hi in
            for client in readers.indices {
                let info = tensor.clientTensors[client]
                let e = info.dtype.byteSize
                let raw = UnsafeMutableRawBufferPointer(rebasing: buffers.raw[(lo * 8)..<(hi * 8)])
                try self.readSlice(readers[client], info,
                                   bytes: Int64((range.lowerBound + lo) * e)..<Int64((range.lowerBound + hi) * e),
                                   into: raw, label: readers[client].path)
                AggregationKernels.accumulate(raw: UnsafeRawBufferPointer(raw), dtype: info.dtype, count: hi - lo,
                                              weight: weights[client], first: client == 0,
                                              accumulator: buffers.accumulator + lo, scratch: buffers.scratch + lo)
            }
            AggregationKernels.finish(accumulator: buffers.accumulator + lo, count: hi - lo, totalWeight: totalWeight,
                                      dtype: tensor.outputDType, scratch: buffers.scratch + lo,
                                      output: buffers.output.baseAddress! + lo * tensor.outputDType.byteSize)
        }
    }

    /// The sum of the inputs' weights, after checking there are inputs and each weight is finite and >= 0
    /// (and, when `positive`, that they do not sum to 0).
    static func totalWeight(_ inputs: [AggregationInput], positive: Bool) throws(AggregationError) -> Double {
        guard !inputs.isEmpty else { throw .noInputs }
        for input in inputs where !(input.weight.isFinite && input.weight >= 0) {
            throw .invalidWeight(client: input.label, weight: input.weight)
        }
        let total = inputs.reduce(0) { $0 + $1.weight }
        guard total > 0 || !positive else { throw .zeroTotalWeight }
        return total
    }

    /// Opens every input, naming the client whose file cannot be read.
    static func openReaders(_ inputs: [AggregationInput]) throws(AggregationError) -> [SafetensorsReader] {
        var readers: [SafetensorsReader] = []
        for input in inputs {
            do {
                readers.append(try SafetensorsReader(path: input.path))
            } catch {
                throw .unreadable(client: input.label, path: input.path, reason: error.description)
            }
        }
        return readers
    }

    func readSlice(_ reader: SafetensorsReader, _ info: TensorInfo, bytes: Range<Int64>,
                           into buffer: UnsafeMutableRawBufferPointer, label: String) throws(AggregationError) {
        do {
            try reader.read(info, byteRange: bytes, into: buffer)
        } catch {
            throw .io(path: reader.path, reason: "cannot read tensor '\(info.name)': \(error.description)")
        }
    }
}

/// The working buffers of one slice: raw input bytes (up to 8 per element), an F32 scratch for
/// F16/BF16 conversion, the `Double` accumulator and the output bytes.
final class SliceBuffers: @unchecked Sendable {
    let raw: UnsafeMutableRawBufferPointer
    let scratch: UnsafeMutablePointer<Float>
    let accumulator: UnsafeMutablePointer<Double>
    let output: UnsafeMutableRawBufferPointer
    let byteCount: Int

    init(elements: Int) {
        raw = .allocate(byteCount: elements * 8, alignment: 64)
        scratch = .allocate(capacity: elements)
        accumulator = .allocate(capacity: elements)
        output = .allocate(byteCount: elements * 8, alignment: 64)
        byteCount = elements * (8 + 4 + 8 + 8)
    }

    func deallocate() {
        raw.deallocate()
        scratch.deallocate()
        accumulator.deallocate()
        output.deallocate()
    }
}
