import FerrySupport
import Yams

/// Collects the diagnostics of one YAML file.
final class YAMLContext {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    func error(_ message: String, at mark: Mark?, hint: String) {
        diagnostics.append(Diagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1,
                                      message: message, hint: hint))
    }
}

/// Typed access to one YAML mapping; every problem becomes a diagnostic and decoding goes on, so all
/// errors of a file are reported at once.
struct FieldReader {
    let mapping: Node.Mapping
    /// Dotted path of this mapping (`""` at the top, `transfer`, `executor`), used in messages.
    let path: String
    let context: YAMLContext

    /// A reader for `node`, or nil (with a diagnostic) when it is not a mapping.
    static func of(_ node: Node, path: String, context: YAMLContext) -> FieldReader? {
        guard case let .mapping(mapping) = node else {
            let what = path.isEmpty ? "the file" : "'\(path)'"
            context.error("\(what) must be a mapping of keys to values, found \(describe(node))", at: node.mark,
                          hint: path.isEmpty ? "write `key: value` lines at the top level" : "write `\(path):` followed by indented `key: value` lines")
            return nil
        }
        return FieldReader(mapping: mapping, path: path, context: context)
    }

    func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Reports keys that are not in `allowed` (with a "did you mean" hint) and keys that are not scalars.
    func checkKeys(_ allowed: [String]) {
        for (key, _) in mapping {
            guard let name = key.scalar?.string else {
                context.error("keys must be plain words, found \(Self.describe(key))", at: key.mark, hint: "use one of: \(allowed.joined(separator: ", "))")
                continue
            }
            if !allowed.contains(name) {
                let place = path.isEmpty ? "" : " in '\(path)'"
                context.error("unknown key '\(name)'\(place)", at: key.mark, hint: Suggestion.hint(for: name, among: allowed))
            }
        }
    }

    /// Position of `key` itself.
    func keyMark(_ key: String) -> Mark? {
        mapping.first(where: { $0.key.scalar?.string == key })?.key.mark
    }

    /// The value of `key`, or nil when it is absent or null.
    func value(_ key: String) -> Node? {
        guard let node = mapping.first(where: { $0.key.scalar?.string == key })?.value else { return nil }
        if let scalar = node.scalar, scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            return nil
        }
        return node
    }

    /// The value of a required key; reports it missing (at the mapping) when absent.
    func required(_ key: String, hint: String) -> Node? {
        if let node = value(key) { return node }
        let place = path.isEmpty ? "" : " in '\(path)'"
        context.error("missing required key '\(key)'\(place)", at: keyMark(key) ?? mapping.mark, hint: hint)
        return nil
    }

    /// A scalar's text, with an error naming the field when the value is a mapping or sequence.
    func scalarText(_ node: Node, key: String, expected: String) -> String? {
        guard let scalar = node.scalar else {
            context.error("'\(qualified(key))' must be \(expected), found \(Self.describe(node))", at: node.mark,
                          hint: "write a single value, e.g. `\(key): …`")
            return nil
        }
        return scalar.string
    }

    func string(_ key: String, required hint: String? = nil) -> String? {
        guard let node = hint.map({ required(key, hint: $0) }) ?? value(key) else { return nil }
        return scalarText(node, key: key, expected: "a string")
    }

    func int(_ key: String, range: ClosedRange<Int>, required hint: String? = nil) -> Int? {
        ranged(key, range: range, required: hint, expected: "a whole number",
               example: "write digits only, e.g. `\(key): \(range.lowerBound)`") { Int($0) }
    }

    func uint64(_ key: String) -> UInt64? {
        guard let node = value(key), let text = scalarText(node, key: key, expected: "a whole number") else { return nil }
        guard let number = UInt64(text.replacingUnderscores()) else {
            context.error("'\(qualified(key))' must be a whole number from 0 to \(UInt64.max), found '\(text)'",
                          at: node.mark, hint: "write digits only, e.g. `\(key): 0`")
            return nil
        }
        return number
    }

    func duration(_ key: String, range: ClosedRange<Duration> = .milliseconds(1) ... .seconds(365 * 86_400)) -> Duration? {
        guard let node = value(key), let text = scalarText(node, key: key, expected: "a duration") else { return nil }
        let parsed: Duration
        do { parsed = try DurationText.parse(text) } catch {
            context.error("'\(qualified(key))': invalid duration '\(text)'", at: node.mark,
                          hint: "use numbers with units, e.g. 90s, 10m, 1h30m (units: ms, s, m, h, d)")
            return nil
        }
        guard range.contains(parsed) else {
            context.error("'\(qualified(key))' is \(DurationText.format(parsed)), outside \(DurationText.format(range.lowerBound))...\(DurationText.format(range.upperBound))",
                          at: node.mark, hint: "choose a duration in that range, e.g. 10m")
            return nil
        }
        return parsed
    }

    func size(_ key: String, range: ClosedRange<Int64>) -> Int64? {
        guard let node = value(key), let text = scalarText(node, key: key, expected: "a size") else { return nil }
        let parsed: Int64
        do { parsed = try ByteCount.parse(text) } catch {
            context.error("'\(qualified(key))': invalid size '\(text)'", at: node.mark,
                          hint: "use a number with a unit, e.g. 512KiB, 8MiB, 2GiB (units: B, KB, MB, GB, KiB, MiB, GiB, TiB)")
            return nil
        }
        guard range.contains(parsed) else {
            context.error("'\(qualified(key))' is \(ByteCount.format(parsed)), outside \(ByteCount.format(range.lowerBound))...\(ByteCount.format(range.upperBound))",
                          at: node.mark, hint: "choose a size in that range, e.g. 8MiB")
            return nil
        }
        return parsed
    }

    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type, required hint: String? = nil) -> E?
    where E.RawValue == String {
        guard let node = hint.map({ required(key, hint: $0) }) ?? value(key),
              let text = scalarText(node, key: key, expected: "one of the listed words") else { return nil }
        if let value = E(rawValue: text) { return value }
        let choices = E.allCases.map(\.rawValue)
        context.error("'\(qualified(key))' must be one of \(choices.joined(separator: ", ")), found '\(text)'", at: node.mark,
                      hint: Suggestion.hint(for: text, among: choices, noun: "values"))
        return nil
    }

    /// One of `E`'s words, or nil when the key is absent or says `noneWord` (which is listed as a
    /// choice in the diagnostic).
    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type, noneWord: String) -> E?
    where E.RawValue == String {
        guard let node = value(key),
              let text = scalarText(node, key: key, expected: "one of the listed words") else { return nil }
        if text == noneWord { return nil }
        if let value = E(rawValue: text) { return value }
        let choices = [noneWord] + E.allCases.map(\.rawValue)
        context.error("'\(qualified(key))' must be one of \(choices.joined(separator: ", ")), found '\(text)'", at: node.mark,
                      hint: Suggestion.hint(for: text, among: choices, noun: "values"))
        return nil
    }

    /// A nested mapping, or nil (with a diagnostic when present but not a mapping).
    func nested(_ key: String) -> FieldReader? {
        guard let node = value(key) else { return nil }
        return FieldReader.of(node, path: qualified(key), context: context)
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return s.string.isEmpty ? "an empty value" : "'\(s.string.prefix(40))'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

extension String {
    /// `1_000` → `1000` (YAML 1.1 style digit grouping).
    func replacingUnderscores() -> String { filter { $0 != "_" } }
}
