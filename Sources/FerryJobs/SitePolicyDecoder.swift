import FerryQuant
import Yams

/// Decodes `policy.yaml` into a ``SitePolicy``, reporting every problem to the context.
struct SitePolicyDecoder {
    static let keys = ["approve", "commands", "env", "filters", "max_rounds", "logs", "log_tail_lines"]
    static let filterKeys = ["to_server", "privacy"]

    let context: YAMLContext

    func decode(_ root: Node) -> SitePolicy? {
        guard let top = FieldReader.of(root, path: "", context: context) else { return nil }
        top.checkKeys(Self.keys)
        var policy = SitePolicy.open
        func line(_ key: String, of reader: FieldReader = top) -> Int { reader.keyMark(key)?.line ?? 1 }
        if let approve = top.choice("approve", ApprovalMode.self) { policy.approve = approve }
        if let commands = patterns(top, "commands", example: "\"/opt/fl/bin/*\"", isValid: { _ in true }) {
            policy.commands = commands
            policy.lines["commands"] = line("commands")
        }
        if let env = patterns(top, "env", example: "\"FL_*\"", isValid: Self.isNamePattern) {
            policy.env = env
            policy.lines["env"] = line("env")
        }
        if let filters = top.nested("filters") {
            filters.checkKeys(Self.filterKeys)
            if let format = filters.choice("to_server", QuantFormat.self) {
                policy.toServer = format
                policy.lines["filters.to_server"] = line("to_server", of: filters)
            }
            if let privacy = filters.nested("privacy") {
                policy.privacy = PrivacyRequirementsDecoder(context: context).decode(privacy)
                policy.lines["filters.privacy"] = line("privacy", of: filters)
            }
        }
        if let rounds = top.int("max_rounds", range: 1...100_000) {
            policy.maxRounds = rounds
            policy.lines["max_rounds"] = line("max_rounds")
        }
        if let logs = top.choice("logs", LogShipping.self) { policy.logs = logs }
        if let tail = top.int("log_tail_lines", range: 1...1_000_000) {
            policy.logTailLines = tail
            if policy.logs != .tail {
                context.error("'log_tail_lines' applies only to `logs: tail`", at: top.keyMark("log_tail_lines"),
                              hint: "set `logs: tail`, or remove 'log_tail_lines'")
            }
        }
        return policy
    }

    /// A list of non-empty pattern strings, or nil (with a diagnostic when present but malformed).
    private func patterns(_ top: FieldReader, _ key: String, example: String, isValid: (String) -> Bool) -> [String]? {
        guard let node = top.value(key) else {
            if top.keyMark(key) != nil {
                context.error("'\(key)' is empty", at: top.keyMark(key),
                              hint: "list the allowed patterns, e.g. `\(key): [\(example)]`, write `\(key): []` to allow none, or remove the key to allow any")
            }
            return nil
        }
        guard case .sequence(let sequence) = node else {
            context.error("'\(key)' must be a list of patterns, found \(FieldReader.describe(node))", at: node.mark,
                          hint: "write `\(key): [\(example)]` or one `- \(example)` line per pattern")
            return nil
        }
        var result: [String] = []
        for item in sequence {
            guard let text = item.scalar?.string, !text.isEmpty else {
                context.error("'\(key)' entries must be non-empty strings, found \(FieldReader.describe(item))", at: item.mark,
                              hint: "quote the pattern, e.g. \(example)")
                continue
            }
            guard isValid(text) else {
                context.error("'\(text)' in '\(key)' is not a variable name or a glob of one", at: item.mark,
                              hint: "use letters, digits and '_', with '*', '?' or [a-z] for globs, e.g. \(example)")
                continue
            }
            result.append(text)
        }
        return result
    }

    /// Letters, digits, `_` and the glob characters `*`, `?`, `[`, `]`, `!`, `-`.
    static func isNamePattern(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_*?[]!-".unicodeScalars.contains($0)
        }
    }
}
