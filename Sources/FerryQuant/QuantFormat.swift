import FerryTensors

/// A quantization format for model tensors (the formats of NVFlare's `ModelQuantizer`, plus bf16).
public enum QuantFormat: String, CaseIterable, Sendable, Codable {
    /// IEEE half precision: values clamped to ±65504, then rounded to nearest even.
    case fp16
    /// bfloat16: rounded to nearest even.
    case bf16
    /// bitsandbytes `quantize_blockwise`: one code byte per value, blocks of 4096 with an f32 absmax.
    case blockwise8
    /// bitsandbytes `quantize_4bit(quant_type="fp4")`: two codes per byte, blocks of 64 with an f32 absmax.
    case fp4
    /// bitsandbytes `quantize_4bit(quant_type="nf4")`: two codes per byte, blocks of 64 with an f32 absmax.
    case nf4
    /// fp4 with double-quantized statistics (bitsandbytes `compress_statistics=True`): the per-block
    /// absmax values, minus their mean, are quantized again to 8 bits in groups of 256.
    case fp4dq = "fp4-dq"
    /// nf4 with double-quantized statistics (QLoRA's double quantization), as ``fp4dq``.
    case nf4dq = "nf4-dq"

    /// Parses a format name: ours (`nf4`) or NVFlare's (`float16`, `float4`, `normfloat4`), any case.
    public init?(name: String) {
        let lower = name.lowercased()
        if let exact = QuantFormat(rawValue: lower) { self = exact; return }
        switch lower {
        case "float16", "half": self = .fp16
        case "bfloat16": self = .bf16
        case "float4": self = .fp4
        case "normfloat4": self = .nf4
        case "8bit", "int8", "q8": self = .blockwise8
        case "fp4dq", "fp4_dq", "float4-dq": self = .fp4dq
        case "nf4dq", "nf4_dq", "normfloat4-dq": self = .nf4dq
        default: return nil
        }
    }

    /// Elements per absmax block (nil for the casts).
    public var blockSize: Int? {
        switch self {
        case .fp16, .bf16: return nil
        case .blockwise8: return 4096
        case .fp4, .nf4, .fp4dq, .nf4dq: return 64
        }
    }

    /// True for nf4-dq and fp4-dq, whose absmax values are quantized again (``absmaxGroupSize`` per group).
    public var isDoubleQuantized: Bool { self == .fp4dq || self == .nf4dq }

    /// The 4-bit format whose codes a double-quantized format stores (itself for the others).
    public var codesFormat: QuantFormat {
        switch self {
        case .fp4dq: return .fp4
        case .nf4dq: return .nf4
        default: return self
        }
    }

    /// Absmax values per 8-bit group of a double-quantized format.
    public static let absmaxGroupSize = 256

    /// Number of 8-bit groups (f32 scales) of a double-quantized format for `count` values (0 for the others).
    public func absmaxGroupCount(elements count: Int64) -> Int64 {
        guard isDoubleQuantized else { return 0 }
        let g = Int64(Self.absmaxGroupSize)
        return (blockCount(elements: count) + g - 1) / g
    }

    /// True for the block-wise formats (codes plus absmax).
    public var isBlockwise: Bool { blockSize != nil }

    /// The name NVFlare's `ModelQuantizer` uses for this format (`nil` for bf16 and the double-quantized
    /// formats, which it lacks).
    public var nvflareName: String? {
        switch self {
        case .fp16: return "float16"
        case .bf16: return nil
        case .blockwise8: return "blockwise8"
        case .fp4: return "float4"
        case .nf4: return "normfloat4"
        case .fp4dq, .nf4dq: return nil
        }
    }

    /// Bytes of codes for `count` values (the cast formats: the 16-bit values).
    public func payloadByteCount(elements count: Int64) -> Int64 {
        switch self {
        case .fp16, .bf16: return count * 2
        case .blockwise8: return count
        case .fp4, .nf4, .fp4dq, .nf4dq: return (count + 1) / 2
        }
    }

    /// Number of absmax values for `count` values (0 for the casts; for the double-quantized formats,
    /// the number of 8-bit absmax codes).
    public func blockCount(elements count: Int64) -> Int64 {
        guard let b = blockSize else { return 0 }
        return (count + Int64(b) - 1) / Int64(b)
    }

    /// The dtype a cast format stores (nil for the block-wise formats, which store U8 codes).
    public var castDType: DType? {
        switch self {
        case .fp16: return .f16
        case .bf16: return .bf16
        default: return nil
        }
    }
}

/// The source element types the codecs read and restore.
public enum FloatType: Int32, Sendable, CaseIterable {
    /// IEEE binary32.
    case f32 = 0
    /// IEEE binary16.
    case f16 = 1
    /// bfloat16.
    case bf16 = 2

    /// The float type of a dtype, if the codecs handle it (F32, F16, BF16).
    public init?(_ dtype: DType) {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        default: return nil
        }
    }

    /// The matching safetensors dtype.
    public var dtype: DType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        }
    }

    /// Bytes per element.
    public var byteSize: Int { self == .f32 ? 4 : 2 }
}
