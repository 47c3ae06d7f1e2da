import Foundation
import Yams

/// Decodes a server app's `round_config:` mapping, reporting every problem to the context.
struct RoundConfigDecoder {
    static let schedules = ["per_round", "linear", "cosine"]
    let context: YAMLContext

    func decode(_ node: Node) -> RoundConfig? {
        guard let reader = FieldReader.of(node, path: "round_config", context: context) else { return nil }
        var entries: [String: RoundConfig.Entry] = [:]
        var ok = true
        for (keyNode, valueNode) in reader.mapping {
            guard let key = keyNode.scalar?.string, !key.isEmpty else {
                context.error("round_config keys must be plain names, found \(FieldReader.describe(keyNode))", at: keyNode.mark,
                              hint: "write `name: value`, e.g. `learning_rate: 0.01`")
                ok = false
                continue
            }
            if let entry = decodeEntry(valueNode, key: "round_config.\(key)") { entries[key] = entry } else { ok = false }
        }
        guard ok else { return nil }
        // A bound on every round's JSON: each per_round list whole (longer than any of its values).
        let widest = RoundConfig.json(entries.mapValues { entry -> ConfigValue in
            switch entry {
            case .constant(let value): value
            case .perRound(let values): .list(values)
            case .linear(let from, _), .cosine(let from, _): .number(from)
            }
        })
        if widest.utf8.count > RoundConfig.maxBytes {
            context.error("round_config is \(widest.utf8.count) bytes as JSON, more than \(RoundConfig.maxBytes)", at: node.mark,
                          hint: "send large data as files in the job folder and put their names in round_config")
            return nil
        }
        return RoundConfig(entries: entries)
    }

    private func decodeEntry(_ node: Node, key: String) -> RoundConfig.Entry? {
        guard case .mapping(let mapping) = node, mapping.count == 1,
              let schedule = mapping.first?.key.scalar?.string, Self.schedules.contains(schedule),
              let argument = mapping.first?.value else {
            return value(node, key: key).map { .constant($0) }
        }
        guard case .sequence(let items) = argument, !items.isEmpty else {
            context.error("'\(key).\(schedule)' must be a list", at: argument.mark,
                          hint: schedule == "per_round" ? "write one value per round, e.g. `per_round: [0.1, 0.05, 0.01]`"
                                                        : "write `\(schedule): [from, to]`, e.g. `\(schedule): [0.1, 0.001]`")
            return nil
        }
        let values = items.compactMap { value($0, key: "\(key).\(schedule)") }
        guard values.count == items.count else { return nil }
        if schedule == "per_round" { return .perRound(values) }
        guard values.count == 2, let from = values[0].number, let to = values[1].number else {
            context.error("'\(key).\(schedule)' must be two numbers [from, to]", at: argument.mark,
                          hint: "e.g. `\(schedule): [0.1, 0.001]`: the value of round 1, then of the last round")
            return nil
        }
        return schedule == "linear" ? .linear(from: from, to: to) : .cosine(from: from, to: to)
    }

    /// The JSON value of a YAML node: plain scalars are null, booleans, whole numbers or finite numbers
    /// when they read as one, else strings; quoted scalars are strings.
    private func value(_ node: Node, key: String) -> ConfigValue? {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string
            guard scalar.style == .plain else { return .string(text) }
            if ["", "~", "null", "Null", "NULL"].contains(text) { return .null }
            if ["true", "True", "TRUE"].contains(text) { return .bool(true) }
            if ["false", "False", "FALSE"].contains(text) { return .bool(false) }
            if let i = Int(text.replacingUnderscores()) { return .int(i) }
            if let d = Double(text.replacingUnderscores()) {
                guard d.isFinite else {
                    context.error("'\(key)' is \(text), not a finite number", at: node.mark, hint: "JSON has no infinities or NaN; write a number")
                    return nil
                }
                return .number(d)
            }
            if [".inf", "-.inf", "+.inf", ".nan", ".Inf", ".NaN", ".INF", ".NAN"].contains(text) {
                context.error("'\(key)' is \(text), not a finite number", at: node.mark, hint: "JSON has no infinities or NaN; write a number")
                return nil
            }
            return .string(text)
        case .sequence(let items):
            let values = items.compactMap { value($0, key: key) }
            return values.count == items.count ? .list(values) : nil
        case .mapping(let mapping):
            var object: [String: ConfigValue] = [:]
            for (k, v) in mapping {
                guard let name = k.scalar?.string else {
                    context.error("keys in '\(key)' must be plain names, found \(FieldReader.describe(k))", at: k.mark, hint: "write `name: value`")
                    return nil
                }
                guard let decoded = value(v, key: "\(key).\(name)") else { return nil }
                object[name] = decoded
            }
            return .object(object)
        case .alias:
            context.error("'\(key)' uses a YAML alias", at: node.mark, hint: "write the value out")
            return nil
        }
    }
}
