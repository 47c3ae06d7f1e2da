/// A tensor element type, spelled as in the safetensors header (`"dtype": "F32"`).
///
/// Only byte-sized types are supported; sub-byte types (`F4`, `F6_E2M3`, …) are refused when a
/// header is parsed.
public enum DType: String, CaseIterable, Sendable, Hashable, Codable {
    /// IEEE 754 binary64.
    case f64 = "F64"
    /// IEEE 754 binary32.
    case f32 = "F32"
    /// IEEE 754 binary16.
    case f16 = "F16"
    /// bfloat16: the upper 16 bits of a binary32.
    case bf16 = "BF16"
    /// 8-bit float, 4 exponent and 3 mantissa bits.
    case f8e4m3 = "F8_E4M3"
    /// 8-bit float, 5 exponent and 2 mantissa bits.
    case f8e5m2 = "F8_E5M2"
    /// Signed 64-bit integer.
    case i64 = "I64"
    /// Signed 32-bit integer.
    case i32 = "I32"
    /// Signed 16-bit integer.
    case i16 = "I16"
    /// Signed 8-bit integer.
    case i8 = "I8"
    /// Unsigned 64-bit integer.
    case u64 = "U64"
    /// Unsigned 32-bit integer.
    case u32 = "U32"
    /// Unsigned 16-bit integer.
    case u16 = "U16"
    /// Unsigned 8-bit integer.
    case u8 = "U8"
    /// Boolean, one byte per element (0 or 1).
    case bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .f8e4m3, .f8e5m2, .i8, .u8, .bool: return 1
        }
    }

    /// True for the floating-point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16, .f8e4m3, .f8e5m2: return true
        default: return false
        }
    }

    /// Parses a dtype as written in a header (`F32`) or by a user (`f32`, `bf16`, `float32`, `float16`).
    public init?(name: String) {
        if let exact = DType(rawValue: name) { self = exact; return }
        let upper = name.uppercased()
        if let loose = DType(rawValue: upper) { self = loose; return }
        switch name.lowercased() {
        case "float64", "double": self = .f64
        case "float32", "float": self = .f32
        case "float16", "half": self = .f16
        case "bfloat16": self = .bf16
        case "int64": self = .i64
        case "int32": self = .i32
        case "int16": self = .i16
        case "int8": self = .i8
        case "uint8": self = .u8
        case "uint16": self = .u16
        case "uint32": self = .u32
        case "uint64": self = .u64
        default: return nil
        }
    }
}
