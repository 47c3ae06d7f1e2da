import Foundation

/// The one timestamp format of every ferry file: ISO 8601 in UTC with milliseconds, e.g.
/// `2026-11-25T19:05:01.250Z`. Files written by earlier versions (whole seconds,
/// `2026-11-25T19:05:01Z`) still read.
public enum Timestamp {
    /// `date` as `2026-11-25T19:05:01.250Z`.
    public static func string(_ date: Date) -> String {
        date.formatted(format)
    }

    /// The current time as `2026-11-25T19:05:01.250Z`.
    public static func now() -> String { string(Date()) }

    /// Parses an ISO 8601 timestamp, with or without fractional seconds; nil when it is not one.
    public static func date(_ text: String) -> Date? {
        if let d = try? format.parse(text) { return d }
        return try? wholeSeconds.parse(text)
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

    private static let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
    private static let wholeSeconds = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!)
}
