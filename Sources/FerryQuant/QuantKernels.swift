import CFerryQuantKernels

/// The C kernels' implementation level (run-time CPU dispatch) and code books.
public enum QuantKernels {
    /// A kernel implementation, from the scalar reference up.
    public enum Level: Int32, Sendable, CaseIterable, Comparable {
        /// Scalar C, the reference.
        case scalar = 0
        /// Portable SIMD (C vector extensions: NEON on aarch64, SSE2 on x86-64); every CPU runs it.
        case portable = 1
        /// AVX2 + FMA + F16C.
        case avx2 = 2
        /// AVX-512F.
        case avx512 = 3

        /// `scalar`, `portable`, `avx2` or `avx512`.
        public var name: String { String(cString: ferry_q_level_name(rawValue)) }

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    /// The best level this CPU supports.
    public static var cpuLevel: Level { Level(rawValue: ferry_q_cpu_level()) ?? .scalar }

    /// The level in use now (the CPU's best, or lower when capped).
    public static var activeLevel: Level { Level(rawValue: ferry_q_active_level()) ?? .scalar }

    /// Caps the level the kernels use, process-wide (`nil` removes the cap). For tests and benchmarks
    /// that compare implementations; every level gives bit-identical results.
    public static func setMaximumLevel(_ level: Level?) { ferry_q_set_max_level(level?.rawValue ?? -1) }

    /// The levels this CPU can run, lowest first.
    public static var availableLevels: [Level] { Level.allCases.filter { $0 <= cpuLevel } }

    /// bitsandbytes' signed dynamic map (256 ascending values), the blockwise8 code book.
    public static var dynamicMap: [Float] { Array(UnsafeBufferPointer(start: ferry_q_dynamic_map(), count: 256)) }

    /// The 16 values of the FP4 code book, by nibble.
    public static var fp4Code: [Float] { Array(UnsafeBufferPointer(start: ferry_q4_code(Int32(FERRY_Q4_FP4.rawValue)), count: 16)) }

    /// The 16 values of the NF4 code book, by nibble.
    public static var nf4Code: [Float] { Array(UnsafeBufferPointer(start: ferry_q4_code(Int32(FERRY_Q4_NF4.rawValue)), count: 16)) }

    /// The 65,536-entry rounding LUT of bitsandbytes' CPU 8-bit quantizer.
    public static var lut8: [UInt8] { Array(UnsafeBufferPointer(start: ferry_q_lut8(), count: 65536)) }
}
