import FerryQuant
import FerryTensors

/// The inner loops of FedAvg: plain loops over contiguous buffers that the compiler vectorizes,
/// with FerryQuant's SIMD F16/BF16 conversions. Inputs are little-endian (as safetensors).
enum AggregationKernels {
    /// `acc[k] = w·x[k]` (first client) or `acc[k] += w·x[k]`, for `count` elements of `dtype` in `raw`.
    static func accumulate(raw: UnsafeRawBufferPointer, dtype: DType, count: Int, weight: Double, first: Bool,
                           accumulator acc: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f64:
            add(raw.baseAddress!.assumingMemoryBound(to: Double.self), count, weight, first, acc)
        case .f32:
            add(raw.baseAddress!.assumingMemoryBound(to: Float.self), count, weight, first, acc)
        case .f16:
            HalfPrecision.widenFP16(raw.baseAddress!.assumingMemoryBound(to: UInt16.self), into: scratch, count: count)
            add(UnsafePointer(scratch), count, weight, first, acc)
        case .bf16:
            HalfPrecision.widenBF16(raw.baseAddress!.assumingMemoryBound(to: UInt16.self), into: scratch, count: count)
            add(UnsafePointer(scratch), count, weight, first, acc)
        default:
            preconditionFailure("AggregationPlan admits only F64/F32/F16/BF16 for averaging")
        }
    }

    @inline(__always)
    private static func add(_ x: UnsafePointer<Float>, _ n: Int, _ w: Double, _ first: Bool, _ acc: UnsafeMutablePointer<Double>) {
        if first {
            for k in 0..<n { acc[k] = w * Double(x[k]) }
        } else {
            for k in 0..<n { acc[k] += w * Double(x[k]) }
        }
    }

    @inline(__always)
    private static func add(_ x: UnsafePointer<Double>, _ n: Int, _ w: Double, _ first: Bool, _ acc: UnsafeMutablePointer<Double>) {
        if first {
            for k in 0..<n { acc[k] = w * x[k] }
        } else {
            for k in 0..<n { acc[k] += w * x[k] }
        }
    }

    /// Divides the accumulator by the total weight and writes `count` elements of `dtype` to `output`.
    static func finish(accumulator acc: UnsafeMutablePointer<Double>, count n: Int, totalWeight: Double, dtype: DType,
                       scratch: UnsafeMutablePointer<Float>, output: UnsafeMutableRawPointer) {
        switch dtype {
        case .f64:
            let out = output.assumingMemoryBound(to: Double.self)
            for k in 0..<n { out[k] = acc[k] / totalWeight }
        case .f32:
            let out = output.assumingMemoryBound(to: Float.self)
            for k in 0..<n { out[k] = Float(acc[k] / totalWeight) }
        case .f16:
            for k in 0..<n { scratch[k] = Float(acc[k] / totalWeight) }
            HalfPrecision.narrowToFP16(scratch, into: output.assumingMemoryBound(to: UInt16.self), count: n)
        case .bf16:
            for k in 0..<n { scratch[k] = Float(acc[k] / totalWeight) }
            HalfPrecision.narrowToBF16(scratch, into: output.assumingMemoryBound(to: UInt16.self), count: n)
        default:
            preconditionFailure("AggregationPlan admits only F64/F32/F16/BF16 for averaging")
        }
    }
}
