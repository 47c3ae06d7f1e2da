/// A small deterministic pseudo-random generator (SplitMix64): the same numbers for the same seed on
/// every platform, for shuffles, synthetic data and seeded chaos schedules.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator seeded with `seed`.
    public init(seed: UInt64) { state = seed }

    /// An independent stream derived from `seed` and a purpose label (FNV-1a of the label).
    public init(seed: UInt64, stream: String) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stream.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        state = seed ^ h
        _ = next()
    }

    public mutating func next() -> UInt64 {
        state = state &+ 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
