/// Parsing and formatting of durations such as `200ms`, `90s`, `10m`, `1h30m`.
public enum DurationText {
    /// Parses a sequence of `<number><unit>` parts (units `ms`, `s`, `m`, `h`, `d`), e.g. `1h30m`, `1.5s`.
    /// A bare number is seconds.
    public static func parse(_ text: String) throws(SupportError) -> Duration {
        let s = Array(text.trimmingWhitespace().lowercased())
        guard !s.isEmpty else { throw .invalidDuration(text) }
        if let seconds = Double(String(s)), seconds.isFinite, seconds >= 0 {
            return .milliseconds(Int64((seconds * 1000).rounded()))
        }
        var i = 0
        var totalMs: Double = 0
        while i < s.count {
            var number = ""
            while i < s.count, s[i].isNumber || s[i] == "." { number.append(s[i]); i += 1 }
            var unit = ""
            while i < s.count, s[i].isLetter { unit.append(s[i]); i += 1 }
            guard let value = Double(number), value.isFinite else { throw .invalidDuration(text) }
            let factor: Double
            switch unit {
            case "ms": factor = 1
            case "s": factor = 1000
            case "m": factor = 60_000
            case "h": factor = 3_600_000
            case "d": factor = 86_400_000
            default: throw .invalidDuration(text)
            }
            totalMs += value * factor
        }
        guard totalMs < 1e15 else { throw .invalidDuration(text) }
        return .milliseconds(Int64(totalMs.rounded()))
    }

    /// Formats a duration compactly: `850ms`, `12.4s`, `3m05s`, `1h30m`.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        if ms < 1000 { return "\(ms)ms" }
        if ms < 60_000 { return formatFixed(Double(ms) / 1000, 1) + "s" }
        let totalSeconds = ms / 1000
        if totalSeconds < 3600 {
            let sec = totalSeconds % 60
            return "\(totalSeconds / 60)m" + (sec < 10 ? "0" : "") + "\(sec)s"
        }
        let minutes = (totalSeconds / 60) % 60
        return "\(totalSeconds / 3600)h" + (minutes < 10 ? "0" : "") + "\(minutes)m"
    }
}

extension Duration {
    /// Whole milliseconds in this duration.
    public var milliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }

    /// This duration in seconds as a floating-point number.
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
