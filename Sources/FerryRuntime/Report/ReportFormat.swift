import FerrySupport
import Foundation

/// How the HTML report spells numbers: durations, metrics, byte counts and percentages.
enum ReportFormat {
    /// A duration for people: `340 ms`, `2.4 s`, `3 min 05 s`, `1 h 30 min`. Fractional seconds keep
    /// their precision (a 0.34 s round reads `340 ms`, not `0 s`); a negative or non-finite value reads `–`.
    static func duration(_ seconds: TimeInterval) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        if seconds == 0 { return "0 ms" }
        let ms = (seconds * 1000).rounded()
        if ms < 1 { return "< 1 ms" }
        if ms < 1000 { return "\(Int(ms)) ms" }
        if seconds < 59.95 { return formatFixed(seconds, 1) + " s" }
        let total = Int(seconds.rounded())
        if total < 3600 { return "\(total / 60) min \(twoDigits(total % 60)) s" }
        return "\(total / 3600) h \(twoDigits(total / 60 % 60)) min"
    }

    /// A metric value with four decimals, as in the `ferry poc` summary.
    static func metric(_ value: Double) -> String { formatFixed(value, 4) }

    /// `wire / unquantized`, or one figure when they are equal.
    static func bytesPair(_ wire: Int64, _ raw: Int64) -> String {
        wire == raw ? ByteCount.format(wire) : "\(ByteCount.format(wire)) / \(ByteCount.format(raw))"
    }

    /// The saving from quantization, `31.2%`, or `none`.
    static func saving(_ share: Double) -> String {
        share > 0 ? formatFixed(share * 100, 1) + "%" : "none"
    }

    private static func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
