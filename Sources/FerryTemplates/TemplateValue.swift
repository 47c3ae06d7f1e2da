import FerryJobs
import FerrySupport

/// A parsed, typed value of a template variable.
public enum TemplateValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case number(Double)
    case string(String)
    case bool(Bool)
    /// A duration or size: the text as given (trimmed), already checked to parse.
    case measure(String)
    case list([String])

    /// The value as `--set` would spell it.
    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .number(let v): Self.format(v)
        case .string(let v), .measure(let v): v
        case .bool(let v): v ? "true" : "false"
        case .list(let v): v.joined(separator: ",")
        }
    }

    /// `0.5` rather than `0.50000`, and no exponent for everyday values.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// Parses `text` as a value of `variable`'s type.
    public static func parse(_ text: String, for variable: TemplateVariable) throws(TemplateError) -> TemplateValue {
        let trimmed = text.trimmed
        func fail(_ hint: String) -> TemplateError {
            .invalidValue(variable: variable.name, value: text, expected: variable.type.expectation, hint: hint)
        }
        switch variable.type {
        case let .int(min, max):
            guard let value = Int(trimmed.filter { $0 != "_" }) else { throw fail("write digits only, e.g. \(variable.name)=\(min ?? 3)") }
            if let min, value < min { throw fail("use a value of at least \(min)") }
            if let max, value > max { throw fail("use a value of at most \(max)") }
            return .int(value)
        case let .number(min, max):
            guard let value = Double(trimmed), value.isFinite else { throw fail("write a decimal number, e.g. \(variable.name)=0.1") }
            if let min, value < min { throw fail("use a value of at least \(format(min))") }
            if let max, value > max { throw fail("use a value of at most \(format(max))") }
            return .number(value)
        case .string:
            return .string(text)
        case .bool:
            switch trimmed.lowercased() {
            case "true", "yes", "on", "1": return .bool(true)
            case "false", "no", "off", "0": return .bool(false)
            default: throw fail("write true or false")
            }
        case .duration:
            do { _ = try DurationText.parse(trimmed) } catch { throw fail("use numbers with units, e.g. 90s, 10m, 1h30m (units: ms, s, m, h, d)") }
            return .measure(trimmed)
        case .size:
            do { _ = try ByteCount.parse(trimmed) } catch { throw fail("use a number with a unit, e.g. 512KiB, 8MiB, 2GiB") }
            return .measure(trimmed)
        case let .choice(choices):
            guard choices.contains(trimmed) else { throw fail(Suggestion.hint(for: trimmed, among: choices, noun: "values")) }
            return .string(trimmed)
        case .list:
            return .list(splitList(trimmed))
        case .sites:
            return .list(try parseSites(trimmed, fail: fail))
        }
    }

    static func splitList(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmed }
    }

    /// Largest site count accepted for `sites` variables.
    static let maxSites = 1000

    private static func parseSites(_ text: String, fail: (String) -> TemplateError) throws(TemplateError) -> [String] {
        if let count = Int(text) {
            guard (1...maxSites).contains(count) else { throw fail("give 1 to \(maxSites) sites") }
            return (1...count).map { "site-\($0)" }
        }
        let names = splitList(text)
        guard !names.isEmpty else { throw fail("give a count, e.g. 2, or names, e.g. site-1,site-2") }
        var seen = Set<String>()
        for name in names {
            guard JobNames.isValid(name) else { throw fail("site names match \(JobNames.pattern), e.g. site-1; '\(name)' does not") }
            guard name != JobDefinition.serverSite else { throw fail("'server' runs the server app; name client sites differently") }
            guard seen.insert(name).inserted else { throw fail("'\(name)' is listed twice") }
        }
        return names
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
