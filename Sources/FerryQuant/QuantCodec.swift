import FerrySupport
import CFerryQuantKernels
import Dispatch
/// Encodes and decodes flat runs of values with the C kernels, on several threads.
///
/// The payload of `count` values is: for fp16/bf16, `count` 16-bit values; for blockwise8, `count`
/// code bytes; for fp4/nf4, `ceil(count/2)` bytes with the first value in the high nibble. Block-wise
/// formats also produce `ceil(count/blockSize)` f32 absmax values. A run must start on a block
/// boundary of the tensor it comes from; a shorter final block is the tensor's tail block.
///
/// The double-quantized formats (nf4-dq, fp4-dq) encode and decode codes exactly as fp4/nf4 with f32
/// absmax values; quantizing those absmax values again is ``DoubleQuantizedAbsmax``'s second, small pass.
public enum QuantCodec {
    /// Threads used by default: the online CPU count, at most 8.
    public static let defaultThreadCount: Int = {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return max(1, min(8, Int(n)))
    }()

    /// Runs are split between threads on multiples of this many elements (a multiple of every block size).
    static let splitAlignment = 4096
    /// Below this many elements per thread, work stays on the calling thread.
    static let minimumElementsPerThread = 1 << 16

    /// Calls `body` on disjoint, aligned sub-ranges of `0..<count`, concurrently.
    static func parallel(count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        let usable = max(1, min(threads, count / minimumElementsPerThread))
        if usable <= 1 { body(0..<count); return }
        let blocks = (count + splitAlignment - 1) / splitAlignment
        let perThread = (blocks + usable - 1) / usable
        // The ranges are disjoint and `body` only touches its own range of the caller's buffers,
        // which outlive this call (concurrentPerform returns when every iteration is done).
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: usable) { t in
            let start = min(count, t * perThread * splitAlignment)
            let end = min(count, (t + 1) * perThread * splitAlignment)
            if start < end { work(start..<end) }
        }
    }

    /// Encodes `count` values of `type` at `source` into `payload` (and `absmax` for the block-wise formats).
    /// - Parameters:
    ///   - payload: room for `format.payloadByteCount(elements: count)` bytes.
    ///   - absmax: room for `format.blockCount(elements: count)` floats (ignored by the casts).
    public static func encode(format: QuantFormat, source: UnsafeRawPointer, type: FloatType, count: Int,
                              payload: UnsafeMutableRawPointer, absmax: UnsafeMutablePointer<Float>?,
                              threads: Int = defaultThreadCount) {
        let t = type.rawValue
        let size = type.byteSize
        parallel(count: count, threads: threads) { r in
            let src = source + r.lowerBound * size
            let n = r.count
            switch format {
            case .fp16:
                ferry_q_cast_fp16(src, t, (payload + r.lowerBound * 2).assumingMemoryBound(to: UInt16.self), n)
            case .bf16:
                ferry_q_cast_bf16(src, t, (payload + r.lowerBound * 2).assumingMemoryBound(to: UInt16.self), n)
            case .blockwise8:
                ferry_q8_quantize(src, t, n, (payload + r.lowerBound).assumingMemoryBound(to: UInt8.self),
                                  absmax! + r.lowerBound / 4096)
            case .fp4, .nf4, .fp4dq, .nf4dq:
                ferry_q4_quantize(kind(format), src, t, n, (payload + r.lowerBound / 2).assumingMemoryBound(to: UInt8.self),
                                  absmax! + r.lowerBound / 64)
            }
        }
    }

    /// Computes only the absmax values that ``encode(format:source:type:count:payload:absmax:threads:)``
    /// stores, for a block-wise format (nothing for the casts).
    public static func absmax(format: QuantFormat, source: UnsafeRawPointer, type: FloatType, count: Int,
                              into absmax: UnsafeMutablePointer<Float>, threads: Int = defaultThreadCount) {
        let t = type.rawValue
        let size = type.byteSize
        parallel(count: count, threads: threads) { r in
            let src = source + r.lowerBound * size
            switch format {
            case .fp16, .bf16: break
            case .blockwise8: ferry_q8_absmax(src, t, r.count, absmax + r.lowerBound / 4096)
            case .fp4, .nf4, .fp4dq, .nf4dq: ferry_q4_absmax(src, t, r.count, absmax + r.lowerBound / 64)
            }
        }
    }

    /// Decodes `count` values from `payload` (and `absmax`) into `output` as `type`.
    ///
    /// Block-wise formats compute `code[q] * absmax` in f32 and round that to `type`; the casts widen
    /// exactly to f32 (or round to the other 16-bit type).
    public static func decode(format: QuantFormat, payload: UnsafeRawPointer, absmax: UnsafePointer<Float>?,
                              count: Int, into output: UnsafeMutableRawPointer, type: FloatType,
                              threads: Int = defaultThreadCount) {
        let t = type.rawValue
        let size = type.byteSize
        parallel(count: count, threads: threads) { r in
            let dst = output + r.lowerBound * size
            let n = r.count
            switch format {
            case .fp16:
                ferry_q_from_fp16((payload + r.lowerBound * 2).assumingMemoryBound(to: UInt16.self), t, dst, n)
            case .bf16:
                ferry_q_from_bf16((payload + r.lowerBound * 2).assumingMemoryBound(to: UInt16.self), t, dst, n)
            case .blockwise8:
                ferry_q8_dequantize((payload + r.lowerBound).assumingMemoryBound(to: UInt8.self),
                                    absmax! + r.lowerBound / 4096, n, t, dst)
            case .fp4, .nf4, .fp4dq, .nf4dq:
                ferry_q4_dequantize(kind(format), (payload + r.lowerBound / 2).assumingMemoryBound(to: UInt8.self),
                                    absmax! + r.lowerBound / 64, n, t, dst)
            }
        }
    }

    static func kind(_ format: QuantFormat) -> Int32 {
        Int32(format.codesFormat == .nf4 ? FERRY_Q4_NF4.rawValue : FERRY_Q4_FP4.rawValue)
    }
}

/// Values encoded in memory (mostly for tests and small tensors).
public struct QuantizedValues: Sendable, Equatable {
    /// The format.
    public var format: QuantFormat
    /// The element type that was encoded (and is restored by ``QuantCodec/decode(_:)``).
    public var sourceType: FloatType
    /// Number of values.
    public var count: Int
    /// Codes (block-wise formats) or 16-bit values (casts), as bytes.
    public var payload: [UInt8]
    /// One f32 per block (empty for the casts and the double-quantized formats).
    public var absmax: [Float]
    /// The absmax values of a double-quantized format (nil for the others).
    public var doubleQuantized: DoubleQuantizedAbsmax?

    /// Creates encoded values from their parts.
    public init(format: QuantFormat, sourceType: FloatType, count: Int, payload: [UInt8], absmax: [Float],
                doubleQuantized: DoubleQuantizedAbsmax? = nil) {
        self.format = format
        self.sourceType = sourceType
        self.count = count
        self.payload = payload
        self.absmax = absmax
        self.doubleQuantized = doubleQuantized
    }

    /// The f32 absmax values the codes are multiplied by (restored for the double-quantized formats).
    public var effectiveAbsmax: [Float] { doubleQuantized?.restored ?? absmax }
}

extension QuantCodec {
    /// Encodes f32 values.
    /// - Parameter absmaxOffset: for nf4-dq and fp4-dq, the offset to subtract from the absmax values
    ///   (default: ``DoubleQuantizedAbsmax/offset(of:)``); ignored by the other formats.
    public static func encode(_ values: [Float], format: QuantFormat, absmaxOffset: Float? = nil,
                              threads: Int = defaultThreadCount) -> QuantizedValues {
        values.withUnsafeBytes { encode(raw: $0, type: .f32, format: format, absmaxOffset: absmaxOffset, threads: threads) }
    }

    /// Encodes raw little-endian values of `type` (`raw.count` must be a multiple of the element size).
    /// - Parameter absmaxOffset: as in ``encode(_:format:absmaxOffset:threads:)``.
    public static func encode(raw: UnsafeRawBufferPointer, type: FloatType, format: QuantFormat,
                              absmaxOffset: Float? = nil, threads: Int = defaultThreadCount) -> QuantizedValues {
        let count = raw.count / type.byteSize
        var payload = [UInt8](repeating: 0, count: Int(format.payloadByteCount(elements: Int64(count))))
        var absmax = [Float](repeating: 0, count: Int(format.blockCount(elements: Int64(count))))
        if count > 0 {
            payload.withUnsafeMutableBytes { p in
                absmax.withUnsafeMutableBufferPointer { a in
                    encode(format: format, source: raw.baseAddress!, type: type, count: count,
                           payload: p.baseAddress!, absmax: a.baseAddress, threads: threads)
                }
            }
        }
        guard format.isDoubleQuantized else {
            return QuantizedValues(format: format, sourceType: type, count: count, payload: payload, absmax: absmax)
        }
        return QuantizedValues(format: format, sourceType: type, count: count, payload: payload, absmax: [],
                               doubleQuantized: DoubleQuantizedAbsmax(absmax: absmax, offset: absmaxOffset))
    }

    /// Decodes into raw little-endian values of `type` (default: the source type).
    public static func decodeRaw(_ q: QuantizedValues, as type: FloatType? = nil, threads: Int = defaultThreadCount) -> [UInt8] {
        let t = type ?? q.sourceType
        var out = [UInt8](repeating: 0, count: q.count * t.byteSize)
        guard q.count > 0 else { return out }
        out.withUnsafeMutableBytes { o in
            q.payload.withUnsafeBytes { p in
                q.effectiveAbsmax.withUnsafeBufferPointer { a in
                    decode(format: q.format, payload: p.baseAddress!, absmax: a.baseAddress, count: q.count,
                           into: o.baseAddress!, type: t, threads: threads)
                }
            }
        }
        return out
    }

    /// Decodes to f32 values.
    public static func decode(_ q: QuantizedValues, threads: Int = defaultThreadCount) -> [Float] {
        let raw = decodeRaw(q, as: .f32, threads: threads)
        return raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
