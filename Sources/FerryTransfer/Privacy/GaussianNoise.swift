import FerrySupport
import Foundation

/// Standard normal numbers (Box–Muller) from a SplitMix64 stream: the same numbers for the same seed
/// and stream name on every platform.
struct GaussianNoise {
    private var random: SplitMix64
    private var spare: Double?

    /// The stream `stream` of `seed` (docs/filters.md: one stream per dp-gaussian filter and tensor).
    init(seed: UInt64, stream: String) { random = SplitMix64(seed: seed, stream: stream) }

    /// The next N(0, 1) number.
    mutating func next() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        let u1 = 1 - random.uniform()   // (0, 1]: log is finite
        let u2 = random.uniform()
        let r = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spare = r * sin(angle)
        return r * cos(angle)
    }
}
