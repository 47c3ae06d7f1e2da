/// Parsing and formatting of byte sizes such as `512KiB`, `8MiB`, `1.5GB`.
public enum ByteCount {
    private static let units: [(String, Double)] = [
        ("tib", 1_099_511_627_776), ("gib", 1_073_741_824), ("mib", 1_048_576), ("kib", 1024),
        ("tb", 1e12), ("gb", 1e9), ("mb", 1e6), ("kb", 1e3),
        ("t", 1_099_511_627_776), ("g", 1_073_741_824), ("m", 1_048_576), ("k", 1024),
        ("b", 1), ("", 1),
    ]

    /// Parses `text` (case-insensitive unit, optional space): `4096`, `512KiB`, `8 MiB`, `1.5GB`.
    /// Binary units (KiB, MiB, GiB, TiB; K, M, G, T) are powers of 1024, decimal ones (KB, MB, GB, TB) of 1000.
    public static func parse(_ text: String) throws(SupportError) -> Int64 {
        let trimmed = text.trimmingWhitespace()
        let lower = trimmed.lowercased()
        var numberEnd = lower.startIndex
        while numberEnd < lower.endIndex, lower[numberEnd].isNumber || lower[numberEnd] == "." {
            numberEnd = lower.index(after: numberEnd)
        }
        let numberText = String(lower[..<numberEnd])
        let unitText = String(lower[numberEnd...]).trimmingWhitespace()
        guard !numberText.isEmpty, let value = Double(numberText), value.isFinite, value >= 0,
              let factor = units.first(where: { $0.0 == unitText })?.1 else {
            throw .invalidByteCount(text)
        }
        let bytes = value * factor
        guard bytes < 9.2e18, bytes.rounded() == bytes || factor > 1 else { throw .invalidByteCount(text) }
        return Int64(bytes.rounded())
    }

    /// Formats `bytes` with a binary unit, e.g. `5716.26 MiB` or `812 B`.
    public static func format(_ bytes: Int64, unit: Unit? = nil) -> String {
        let b = Double(bytes)
        let chosen = unit ?? (abs(b) >= 1_073_741_824 ? .gib : abs(b) >= 1_048_576 ? .mib : abs(b) >= 1024 ? .kib : .bytes)
        switch chosen {
        case .bytes: return "\(bytes) B"
        case .kib: return formatFixed(b / 1024, 2) + " KiB"
        case .mib: return formatFixed(b / 1_048_576, 2) + " MiB"
        case .gib: return formatFixed(b / 1_073_741_824, 2) + " GiB"
        }
    }

    /// A fixed display unit for ``format(_:unit:)``.
    public enum Unit: Sendable { case bytes, kib, mib, gib }
}

/// Formats `value` with `digits` digits after the decimal point (no Foundation locale involved).
public func formatFixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = value < 0
    let scaled = (abs(value) * scale).rounded()
    let whole = Int64(scaled / scale)
    let frac = Int64(scaled - Double(whole) * scale)
    var text = "\(whole)"
    if digits > 0 {
        var f = "\(frac)"
        while f.count < digits { f = "0" + f }
        text += "." + f
    }
    return negative && scaled != 0 ? "-" + text : text
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
