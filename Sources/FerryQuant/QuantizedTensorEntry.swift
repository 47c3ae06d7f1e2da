import Foundation
import FerryTensors

/// The keys and names of the quantized-model format (docs/quantized-format.md).
///
/// A quantized model is a plain safetensors file. Its `__metadata__` holds
/// `ferry.quantized.version` (`"1"`), `ferry.quantized.format` (the format name) and, for every
/// quantized tensor `NAME`, a key `ferry.tensor.NAME` whose value is a ``QuantizedTensorEntry`` as JSON.
/// A block-wise tensor is stored as two tensors: `NAME.absmax` (F32, one per block, placed first)
/// and `NAME` (U8 codes); a cast tensor is stored as `NAME` in F16 or BF16 with its original shape.
/// A double-quantized tensor (nf4-dq, fp4-dq) is stored as four: `NAME.absmax_q` (U8, one per block),
/// `NAME.absmax2` (F32, one per 256 blocks), `NAME.absmax_offset` (F32, one value), then `NAME`.
/// Tensors without an entry are stored unchanged.
public enum QuantizedModelKeys {
    /// The `__metadata__` key that marks a ferry-quantized file; its value is ``version``.
    public static let versionKey = "ferry.quantized.version"
    /// The `__metadata__` key holding the format name (`nf4`, …).
    public static let formatKey = "ferry.quantized.format"
    /// Prefix of the per-tensor entries: `ferry.tensor.NAME`.
    public static let tensorKeyPrefix = "ferry.tensor."
    /// Suffix of the absmax tensor's name: `NAME.absmax`.
    public static let absmaxSuffix = ".absmax"
    /// Suffix of a double-quantized tensor's 8-bit absmax codes: `NAME.absmax_q`.
    public static let absmaxCodesSuffix = ".absmax_q"
    /// Suffix of a double-quantized tensor's per-group absmax scales: `NAME.absmax2`.
    public static let absmaxScalesSuffix = ".absmax2"
    /// Suffix of a double-quantized tensor's absmax offset: `NAME.absmax_offset`.
    public static let absmaxOffsetSuffix = ".absmax_offset"
    /// The format version this ferry writes and reads.
    public static let version = "1"
    /// Prefix reserved for ferry's own metadata keys.
    static let reservedPrefix = "ferry."
}

/// How one tensor of the original model is stored in a quantized file (the JSON value of
/// `ferry.tensor.NAME`), e.g. `{"absmax":"w.absmax","block_size":64,"format":"nf4","shape":[4,8],"source_dtype":"F32"}`.
public struct QuantizedTensorEntry: Codable, Sendable, Equatable {
    /// The quantization format.
    public var format: QuantFormat
    /// Elements per absmax block (64 or 4096); absent for the casts.
    public var blockSize: Int?
    /// The dtype the tensor is restored to (F32, F16 or BF16).
    public var sourceDType: DType
    /// The original shape.
    public var shape: [Int]
    /// The name of the absmax tensor (block-wise formats only; the U8 absmax codes when double-quantized).
    public var absmax: String?
    /// Absmax values per 8-bit group (256; double-quantized formats only).
    public var absmaxBlockSize: Int?
    /// The name of the F32 per-group absmax scales (double-quantized formats only).
    public var absmaxScales: String?
    /// The name of the one-value F32 absmax offset (double-quantized formats only).
    public var absmaxOffset: String?

    /// Creates an entry (`absmaxScales` and `absmaxOffset` only for the double-quantized formats).
    public init(format: QuantFormat, sourceDType: DType, shape: [Int], absmax: String?,
                absmaxScales: String? = nil, absmaxOffset: String? = nil) {
        self.format = format
        self.blockSize = format.blockSize
        self.sourceDType = sourceDType
        self.shape = shape
        self.absmax = absmax
        self.absmaxBlockSize = format.isDoubleQuantized ? QuantFormat.absmaxGroupSize : nil
        self.absmaxScales = absmaxScales
        self.absmaxOffset = absmaxOffset
    }

    enum CodingKeys: String, CodingKey {
        case format, shape, absmax
        case blockSize = "block_size"
        case sourceDType = "source_dtype"
        case absmaxBlockSize = "absmax_block_size"
        case absmaxScales = "absmax2"
        case absmaxOffset = "absmax_offset"
    }

    /// The compact JSON text stored in `__metadata__` (keys sorted).
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, integers and arrays cannot fail.
        let data = (try? encoder.encode(self)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses the JSON text of an entry.
    public init?(jsonText: String) {
        guard let entry = try? JSONDecoder().decode(QuantizedTensorEntry.self, from: Data(jsonText.utf8)) else { return nil }
        self = entry
    }

    /// Number of elements of the original tensor (nil when a dimension is negative or the product overflows).
    public var elementCount: Int64? {
        TensorSpec(name: "", dtype: .u8, shape: shape).checkedElementCount
    }
}
