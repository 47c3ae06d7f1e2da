import CFerryQuantKernels

/// Conversions between F32 and the 16-bit float formats, on the SIMD kernels (F16C / AVX-512 where
/// the CPU has them). Little-endian, as safetensors stores them.
package enum HalfPrecision {
    /// Widens `count` IEEE half-precision values to F32.
    package static func widenFP16(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        ferry_q_from_fp16(source, Int32(FERRY_Q_F32.rawValue), destination, count)
    }

    /// Widens `count` bfloat16 values to F32.
    package static func widenBF16(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        ferry_q_from_bf16(source, Int32(FERRY_Q_F32.rawValue), destination, count)
    }

    /// Rounds `count` F32 values to IEEE half precision (round to nearest even).
    package static func narrowToFP16(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<UInt16>, count: Int) {
        ferry_q_cast_fp16(source, Int32(FERRY_Q_F32.rawValue), destination, count)
    }

    /// Rounds `count` F32 values to bfloat16 (round to nearest even).
    package static func narrowToBF16(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<UInt16>, count: Int) {
        ferry_q_cast_bf16(source, Int32(FERRY_Q_F32.rawValue), destination, count)
    }
}
