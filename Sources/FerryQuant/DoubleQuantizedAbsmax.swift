import CFerryQuantKernels

/// The per-block absmax values of an nf4-dq or fp4-dq tensor, quantized again (bitsandbytes'
/// `compress_statistics=True`, QLoRA's double quantization).
///
/// `absmax[j] - offset` is quantized with the blockwise 8-bit rule (bitsandbytes' CPU quantizer and
/// signed dynamic map) in groups of ``QuantFormat/absmaxGroupSize`` absmax values. Restoring computes
/// `dynamicMap[codes[j]] * scales[j / 256] + offset`, a float multiply and then a float add.
/// The exact rules are in docs/quantized-format.md.
public struct DoubleQuantizedAbsmax: Sendable, Equatable {
    /// One 8-bit code per 4-bit block (`NAME.absmax_q` in a quantized file).
    public var codes: [UInt8]
    /// One f32 scale per group of 256 codes: the group's largest |absmax - offset| (`NAME.absmax2`).
    public var scales: [Float]
    /// The value subtracted from every absmax before quantizing (`NAME.absmax_offset`).
    public var offset: Float

    /// Creates the stored form from its parts.
    public init(codes: [UInt8], scales: [Float], offset: Float) {
        self.codes = codes
        self.scales = scales
        self.offset = offset
    }

    /// Double-quantizes f32 absmax values, subtracting `offset` (default: ``offset(of:)``).
    public init(absmax: UnsafeBufferPointer<Float>, offset: Float? = nil) {
        let offset = offset ?? Self.offset(of: absmax)
        let groups = (absmax.count + QuantFormat.absmaxGroupSize - 1) / QuantFormat.absmaxGroupSize
        var codes = [UInt8](repeating: 0, count: absmax.count)
        var scales = [Float](repeating: 0, count: groups)
        if let base = absmax.baseAddress {
            codes.withUnsafeMutableBufferPointer { c in
                scales.withUnsafeMutableBufferPointer { s in
                    Self.quantize(absmax: base, count: absmax.count, offset: offset, codes: c.baseAddress!, scales: s.baseAddress!)
                }
            }
        }
        self.init(codes: codes, scales: scales, offset: offset)
    }

    /// Double-quantizes f32 absmax values, subtracting `offset` (default: ``offset(of:)``).
    public init(absmax: [Float], offset: Float? = nil) {
        self = absmax.withUnsafeBufferPointer { DoubleQuantizedAbsmax(absmax: $0, offset: offset) }
    }

    /// The absmax values restored as f32 (what the 4-bit codes are multiplied by).
    public var restored: [Float] {
        var out = [Float](repeating: 0, count: codes.count)
        guard !codes.isEmpty else { return out }
        out.withUnsafeMutableBufferPointer { o in
            codes.withUnsafeBufferPointer { c in
                scales.withUnsafeBufferPointer { s in
                    Self.dequantize(codes: c.baseAddress!, scales: s.baseAddress!, offset: offset, count: codes.count, into: o.baseAddress!)
                }
            }
        }
        return out
    }

    /// ferry's offset: the mean of the finite absmax values, summed in index order in f64, the sum
    /// rounded to f32 and divided in f32 by the count (0 when none is finite). bitsandbytes takes
    /// torch's f32 mean, whose summation order depends on the CPU; for finite values this agrees
    /// with it in most cases and is the same on every machine.
    public static func offset(of absmax: UnsafeBufferPointer<Float>) -> Float {
        guard let base = absmax.baseAddress else { return 0 }
        return ferry_q4dq_offset(base, absmax.count)
    }

    /// Quantizes `count` absmax values: `codes` gets `count` bytes, `scales` one float per group of 256.
    /// Groups are independent, so they are split between `threads` threads.
    public static func quantize(absmax: UnsafePointer<Float>, count: Int, offset: Float,
                                codes: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>,
                                threads: Int = QuantCodec.defaultThreadCount) {
        QuantCodec.parallel(count: count, threads: threads) { r in
            ferry_q4dq_quantize_absmax(absmax + r.lowerBound, r.count, offset, codes + r.lowerBound,
                                       scales + r.lowerBound / QuantFormat.absmaxGroupSize)
        }
    }

    /// Restores `count` absmax values from their codes, group scales and offset.
    public static func dequantize(codes: UnsafePointer<UInt8>, scales: UnsafePointer<Float>, offset: Float,
                                  count: Int, into absmax: UnsafeMutablePointer<Float>) {
        ferry_q4dq_dequantize_absmax(codes, scales, offset, count, absmax)
    }
}
