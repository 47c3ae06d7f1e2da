/// The exact linear-interpolated percentile of |x| over a stream of Float values, in two passes with
/// 1.5 MiB of counters whatever the stream's length (numpy.percentile's default `linear` method).
///
/// A non-negative Float's bit pattern orders as the value does, so pass 1 counts the values by their
/// top 16 bits and finds the bins holding the two order statistics the percentile interpolates;
/// pass 2 counts the low 16 bits of the values in those bins, which pins both statistics exactly.
struct AbsoluteQuantile {
    private var high = [Int64](repeating: 0, count: 1 << 16)
    private var lowOfLo = [Int64](repeating: 0, count: 1 << 16)
    private var lowOfHi = [Int64](repeating: 0, count: 1 << 16)
    private(set) var count: Int64 = 0
    private var target: (lo: Int64, hi: Int64, frac: Double, binLo: Int, binHi: Int, beforeLo: Int64, beforeHi: Int64)?

    /// Pass 1: counts `values` (their absolute values).
    mutating func countHigh(_ values: UnsafeBufferPointer<Float>) {
        for v in values { high[Int(abs(v).bitPattern >> 16)] += 1 }
        count += Int64(values.count)
    }

    /// Between the passes: fixes the order statistics of percentile `q` (0–100).
    mutating func prepare(percentile q: Double) {
        guard count > 0 else { return }
        let position = (q / 100) * Double(count - 1)
        let lo = min(Int64(position.rounded(.down)), count - 1)
        let hi = min(lo + 1, count - 1)
        let (binLo, beforeLo) = bin(ofRank: lo)
        let (binHi, beforeHi) = bin(ofRank: hi)
        target = (lo, hi, position - Double(lo), binLo, binHi, beforeLo, beforeHi)
    }

    /// Pass 2: counts the same values again.
    mutating func countLow(_ values: UnsafeBufferPointer<Float>) {
        guard let t = target else { return }
        for v in values {
            let bits = abs(v).bitPattern
            let bin = Int(bits >> 16)
            if bin == t.binLo { lowOfLo[Int(bits & 0xFFFF)] += 1 }
            if bin == t.binHi { lowOfHi[Int(bits & 0xFFFF)] += 1 }
        }
    }

    /// After pass 2: the percentile (0 for an empty stream).
    func value() -> Double {
        guard let t = target else { return 0 }
        let a = Double(Self.statistic(bin: t.binLo, rankInBin: t.lo - t.beforeLo, low: lowOfLo))
        let b = Double(Self.statistic(bin: t.binHi, rankInBin: t.hi - t.beforeHi, low: lowOfHi))
        return a + (b - a) * t.frac
    }

    /// The bin holding the value of rank `rank` (0-based) and how many values lie in lower bins.
    private func bin(ofRank rank: Int64) -> (Int, Int64) {
        var before: Int64 = 0
        for (index, n) in high.enumerated() {
            if rank < before + n { return (index, before) }
            before += n
        }
        return (high.count - 1, before)
    }

    private static func statistic(bin: Int, rankInBin: Int64, low: [Int64]) -> Float {
        var before: Int64 = 0
        for (index, n) in low.enumerated() {
            if rankInBin < before + n { return Float(bitPattern: UInt32(bin) << 16 | UInt32(index)) }
            before += n
        }
        return Float(bitPattern: UInt32(bin) << 16 | 0xFFFF)
    }
}
