extension SafetensorsReader {
    /// Reads a whole (small) tensor as `Float` values, converting from F32, F16, BF16 or F64.
    /// - Throws: ``SafetensorsError/unsupportedConversion(file:tensor:from:to:)`` for other dtypes.
    public func floats(of tensor: TensorInfo, limit: Int64 = defaultWholeReadLimit) throws(SafetensorsError) -> [Float] {
        switch tensor.dtype {
        case .f32, .f16, .bf16, .f64: break
        default: throw .unsupportedConversion(file: path, tensor: tensor.name, from: tensor.dtype, to: "Float")
        }
        let raw = try bytes(of: tensor, limit: limit)
        return raw.withUnsafeBytes { FloatConversion.decode(raw: $0, dtype: tensor.dtype) }
    }

    /// Reads a whole (small) tensor as an array of `T`, whose size must equal the dtype's element size
    /// (for example `Int64` for I64, `UInt16` for BF16 bit patterns). Bytes are taken as little-endian.
    public func values<T: FixedWidthInteger>(of tensor: TensorInfo, as type: T.Type,
                                             limit: Int64 = defaultWholeReadLimit) throws(SafetensorsError) -> [T] {
        guard MemoryLayout<T>.size == tensor.dtype.byteSize else {
            throw .unsupportedConversion(file: path, tensor: tensor.name, from: tensor.dtype, to: "\(T.self)")
        }
        let raw = try bytes(of: tensor, limit: limit)
        return raw.withUnsafeBytes { buf in
            (0..<Int(tensor.elementCount)).map { T(littleEndian: buf.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
    }
}

/// Conversions between `Float` and the 16-bit float formats, bit-exact and portable
/// (round to nearest, ties to even; NaN stays NaN).
public enum FloatConversion {
    /// IEEE binary16 bits → `Float` (exact).
    @inline(__always)
    public static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = UInt32((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            if mant == 0 { return Float(bitPattern: sign) }
            let magnitude = Float(mant) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        if exp == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
    }

    /// `Float` → IEEE binary16 bits, round to nearest even; overflow gives ±infinity.
    @inline(__always)
    public static func halfBits(from f: Float) -> UInt16 {
        let x = f.bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exp = Int((x >> 23) & 0xFF)
        var mant = x & 0x7F_FFFF
        if exp == 0xFF {
            return mant == 0 ? sign | 0x7C00 : sign | 0x7E00 | UInt16(truncatingIfNeeded: mant >> 13)
        }
        let e = exp - 112
        if e >= 0x1F { return sign | 0x7C00 }
        if e <= 0 {
            if e < -10 { return sign }
            mant |= 0x80_0000
            let shift = UInt32(14 - e)
            var half = mant >> shift
            let rem = mant & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if rem > halfway || (rem == halfway && (half & 1) == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(e) << 10 | (mant >> 13)
        let rem = mant & 0x1FFF
        if rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1) { half += 1 }
        return sign | UInt16(half)
    }

    /// bfloat16 bits → `Float` (exact).
    @inline(__always)
    public static func float(fromBFloat16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// `Float` → bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN.
    @inline(__always)
    public static func bfloat16Bits(from f: Float) -> UInt16 {
        let x = f.bitPattern
        if f.isNaN { return UInt16(x >> 16) | 0x0040 }
        let rounding = 0x7FFF + ((x >> 16) & 1)
        return UInt16((x &+ rounding) >> 16)
    }

    /// Decodes raw little-endian F32/F16/BF16/F64 bytes to `Float` (other dtypes give an empty array).
    public static func decode(raw: UnsafeRawBufferPointer, dtype: DType) -> [Float] {
        let n = raw.count / dtype.byteSize
        switch dtype {
        case .f32:
            return (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        case .f16:
            return (0..<n).map { float(fromHalf: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .bf16:
            return (0..<n).map { float(fromBFloat16: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .f64:
            return (0..<n).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
        default:
            return []
        }
    }
}
