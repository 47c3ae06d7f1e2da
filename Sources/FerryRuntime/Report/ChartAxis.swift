import FerrySupport
import Foundation

/// A y axis from `from` to `to` (data units) with about five round tick values, labelled in `scale`
/// units (1024 for KiB) with `suffix`.
struct Axis {
    let from: Double
    let to: Double
    /// Tick values in data units.
    let ticks: [Double]
    /// The tick labels.
    let labels: [String]

    init(from: Double, to: Double, scale: Double = 1, suffix: String = "") {
        self.from = from
        self.to = to
        let (a, b) = (from / scale, to / scale)
        let step = Self.step(b - a)
        var values: [Double] = []
        if step > 0 {
            var t = (a / step).rounded(.up) * step
            while t <= b + step * 1e-9 {
                values.append(abs(t) < step * 1e-9 ? 0 : t)
                t += step
            }
        }
        // Enough decimals to tell the ticks apart: 0.05 steps get two.
        let digits = step > 0 ? min(max(0, -Int(floor(log10(step)))), 8) : 2
        ticks = values.map { $0 * scale }
        labels = values.map { formatFixed($0, digits) + suffix }
    }

    /// Maps a data value to a y position between `top` (at `to`) and `bottom` (at `from`).
    func position(top: Double, bottom: Double) -> (Double) -> Double {
        let (from, span) = (from, to - from)
        return { y in top + (1 - (y - from) / span) * (bottom - top) }
    }

    /// A step of 1, 2 or 5 times a power of ten giving about five ticks over `span` (0 when none fits).
    static func step(_ span: Double) -> Double {
        guard span > 0, span.isFinite else { return 0 }
        let raw = span / 5
        let magnitude = pow(10, floor(log10(raw)))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
    }
}
