import Foundation

/// The one timestamp format of every ferry file: ISO 8601 in UTC with milliseconds, e.g.
/// `2026-11-25T19:05:01.250Z`. Files written by earlier versions (whole seconds,
/// `2026-11-25T19:05:01Z`) still read.
///
/// Times are kept at whole milliseconds (the nearest), so a date written and read back is equal to
/// ``normalized(_:)`` of the original, however many times it goes round.
public enum Timestamp {
    /// `date` as `2026-11-25T19:05:01.250Z`.
    public static func string(_ date: Date) -> String {
        let ms = milliseconds(date)
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let fraction = ms - seconds * 1000
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(wholeSeconds)  // …T19:05:01Z
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// The current time as `2026-11-25T19:05:01.250Z`.
    public static func now() -> String { string(Date()) }

    /// `date` at the precision files store it (the nearest millisecond): what reading back
    /// ``string(_:)`` gives.
    public static func normalized(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds(date)) / 1000)
    }

    /// Parses an ISO 8601 timestamp, with or without fractional seconds; nil when it is not one.
    public static func date(_ text: String) -> Date? {
        guard let parsed = (try? fractional.parse(text)) ?? (try? wholeSeconds.parse(text)) else { return nil }
        return normalized(parsed)
    }

    /// How `JSONEncoder`s of ferry files write dates.
    public static let encodingStrategy = JSONEncoder.DateEncodingStrategy.custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(string(date))
    }

    /// How `JSONDecoder`s of ferry files read dates (both precisions).
    public static let decodingStrategy = JSONDecoder.DateDecodingStrategy.custom { decoder in
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = date(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 time such as 2026-11-25T19:05:01.250Z")
        }
        return date
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
    private static let wholeSeconds = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!)
}
