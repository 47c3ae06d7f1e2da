import FerrySupport
import Foundation

/// A y axis from `from` to `to` (data units) with about six round tick values, labelled in `scale`
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
        // Enough decimals to write the step exactly: 0.05 gets two, 0.025 three.
        var digits = 0
        while digits < 8, step > 0, abs((step * pow(10, Double(digits))).rounded() - step * pow(10, Double(digits))) > 1e-6 {
            digits += 1
        }
        ticks = values.map { $0 * scale }
        // Units (KiB) read better without trailing zeros: 0, 2.5, 5 KiB.
        labels = values.map { value in
            var text = formatFixed(value, digits)
            if !suffix.isEmpty, text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return text + suffix
        }
    }

    /// Maps a data value to a y position between `top` (at `to`) and `bottom` (at `from`).
    func position(top: Double, bottom: Double) -> (Double) -> Double {
        let (from, span) = (from, to - from)
        return { y in top + (1 - (y - from) / span) * (bottom - top) }
    }

    /// A step of 1, 2, 2.5 or 5 times a power of ten giving about six ticks over `span` (0 when none fits).
    static func step(_ span: Double) -> Double {
        guard span > 0, span.isFinite else { return 0 }
        let raw = span / 6
        let magnitude = pow(10, floor(log10(raw)))
        return [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
    }
}
