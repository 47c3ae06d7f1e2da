import Foundation

/// Job ids: `YYYYMMDD-HHMMSS-xxxxxx` (UTC time of submission and 6 random lowercase hex digits), so that
/// sorting ids as text sorts jobs by submission time.
public enum JobID {
    /// A new id for a job submitted at `date`.
    public static func make(at date: Date = Date()) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d%02d%02d-%02d%02d%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        let random = String(format: "%06x", UInt32.random(in: 0..<0x100_0000))
        return stamp + "-" + random
    }

    /// Whether `text` is a well-formed job id.
    public static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 8, parts[1].count == 6, parts[2].count == 6 else { return false }
        return parts[0].allSatisfy(\.isASCIIDigit) && parts[1].allSatisfy(\.isASCIIDigit)
            && parts[2].allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
