import CFerryQuantKernels
import FerrySupport
import FerryTensors

/// Sizes of a quantization, in the terms of NVFlare's report
/// (`Before: X MiB. After: Y MiB with meta: Z MiB.`).
public struct QuantizationSummary: Sendable, Equatable {
    /// The format.
    public var format: QuantFormat
    /// Data bytes of the original model ("Before").
    public var originalByteCount: Int64
    /// Data bytes of the quantized tensors' codes or cast values plus unchanged tensors ("After").
    public var payloadByteCount: Int64
    /// Header plus absmax bytes ("meta").
    public var metaByteCount: Int64
    /// Size of the quantized file (payload plus meta).
    public var fileByteCount: Int64
    /// Number of tensors quantized.
    public var quantizedTensorCount: Int
    /// Number of tensors in the model.
    public var tensorCount: Int

    /// `Before: 5716.26 MiB. After: 714.53 MiB with meta: 89.33 MiB.`
    public var nvflareLine: String {
        func mib(_ b: Int64) -> String { formatFixed(Double(b) / 1_048_576, 2) }
        return "Before: \(mib(originalByteCount)) MiB. After: \(mib(payloadByteCount)) MiB with meta: \(mib(metaByteCount)) MiB."
    }
}

/// Mean and maximum absolute error between a model and its quantized form, over quantized tensors.
public struct QuantizationErrorStats: Sendable, Equatable {
    /// Number of value pairs compared (both finite).
    public var count: Int64
    /// Pairs skipped because a value was NaN or infinite.
    public var skipped: Int64
    /// Mean of |original − restored|.
    public var mean: Double
    /// Largest |original − restored|.
    public var max: Double
}

/// Quantizes and restores model files, streaming (memory bounded by buffers, not by the model).
public enum ModelQuantizer {
    /// Writes the quantized form of `input` to `output` (atomically).
    /// - Parameter progress: called with the bytes of the quantized file written so far.
    @discardableResult
    public static func quantize(input: String, output: String, format: QuantFormat,
                                bufferSize: Int = QuantizingSource.defaultBufferSize,
                                progress: ((Int64) -> Void)? = nil) throws -> QuantizationSummary {
        let source = try QuantizingSource(modelPath: input, format: format, bufferSize: bufferSize)
        let written = try source.pipe(into: try AtomicFileSink(path: output), bufferSize: bufferSize, progress: progress)
        let original = try SafetensorsReader(path: input).header
        let quantized = source.header.metadata.keys.filter { $0.hasPrefix(QuantizedModelKeys.tensorKeyPrefix) }.count
        return QuantizationSummary(format: format, originalByteCount: original.dataByteCount,
                                   payloadByteCount: written - source.metaByteCount, metaByteCount: source.metaByteCount,
                                   fileByteCount: written, quantizedTensorCount: quantized,
                                   tensorCount: original.tensors.count)
    }

    /// Restores the model in the quantized file `input` to `output` (atomically).
    /// - Parameter progress: called with the bytes of the quantized file consumed so far.
    /// - Returns: the size of the restored file.
    @discardableResult
    public static func dequantize(input: String, output: String, bufferSize: Int = 1 << 20,
                                  progress: ((Int64) -> Void)? = nil) throws -> Int64 {
        let sink = DequantizingSink(destination: output)
        try FileByteSource(path: input).pipe(into: sink, bufferSize: bufferSize, progress: progress)
        return try SafetensorsReader(path: output).fileSize
    }

    /// Decodes the quantized file `quantized` in memory-bounded slices and compares it with `original`.
    public static func measureError(original: String, quantized: String,
                                    bufferSize: Int = 1 << 20) throws -> QuantizationErrorStats {
        let comparer = try ErrorComparer(originalPath: original)
        let sink = DequantizingSink(output: comparer, label: quantized)
        try FileByteSource(path: quantized).pipe(into: sink, bufferSize: bufferSize)
        return comparer.stats
    }
}

/// Compares the restored bytes with the original file as they arrive.
final class ErrorComparer: RestoredModelOutput {
    private let reader: SafetensorsReader
    private var position: Int64 = 0
    private var tensorIndex = 0
    private var original: UnsafeMutableRawBufferPointer
    private var sum = 0.0, maximum = 0.0, skipped: UInt64 = 0, count: Int64 = 0

    init(originalPath: String) throws {
        reader = try SafetensorsReader(path: originalPath)
        original = .allocate(byteCount: 0, alignment: 64)
    }

    deinit { original.deallocate() }

    var stats: QuantizationErrorStats {
        let compared = count - Int64(skipped)
        return QuantizationErrorStats(count: compared, skipped: Int64(skipped),
                                      mean: compared > 0 ? sum / Double(compared) : 0, max: maximum)
    }

    func begin(tensors: [TensorSpec], metadata: [String: String]) throws {
        guard tensors == reader.tensors.map(\.spec) else {
            throw QuantError.invalidEntry(file: reader.path, tensor: "*",
                                          reason: "the quantized file does not hold the same tensors as this model")
        }
    }

    func append(_ bytes: UnsafeRawBufferPointer, decoded: Bool) throws {
        let tensors = reader.tensors
        while tensorIndex < tensors.count, tensors[tensorIndex].dataOffsets.upperBound <= position { tensorIndex += 1 }
        defer { position += Int64(bytes.count) }
        guard decoded, tensorIndex < tensors.count, let type = FloatType(tensors[tensorIndex].dtype) else { return }
        if original.count < bytes.count {
            original.deallocate()
            original = .allocate(byteCount: bytes.count, alignment: 64)
        }
        _ = try reader.readFileBytes(at: reader.header.dataStart + position, into: UnsafeMutableRawBufferPointer(rebasing: original[0..<bytes.count]))
        let n = bytes.count / type.byteSize
        ferry_q_abs_error(original.baseAddress!, bytes.baseAddress!, type.rawValue, n, &sum, &maximum, &skipped)
        count += Int64(n)
    }

    func finish() throws {}
    func cancel() {}
}
