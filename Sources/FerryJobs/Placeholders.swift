/// `{name}` placeholders in executor commands and environment values.
///
/// A placeholder is `{` + a name of lowercase letters, digits and `_` + `}`. `{{` and `}}` stand for
/// literal braces, so `awk '{{print $1}}'` reaches the program as `awk '{print $1}'`. Any other brace is
/// kept as written.
public enum Placeholders {
    /// Every placeholder a job may use, in documentation order.
    public static let names: [String] = [
        "input_model", "output_model", "result", "round", "rounds", "site", "job_id", "task", "app_dir", "work_dir",
        "config", "metrics", "task_kind",
    ]

    /// Replaces each `{name}` found in `values` with its value and undoes `{{`/`}}` escapes.
    /// Placeholders without a value are left as written.
    public static func expand(_ text: String, values: [String: String]) -> String {
        var output = ""
        for token in tokens(text) {
            switch token {
            case .literal(let s): output += s
            case .placeholder(let name): output += values[name] ?? "{\(name)}"
            }
        }
        return output
    }

    /// The placeholder names referenced in `text`, in order of appearance.
    public static func references(in text: String) -> [String] {
        tokens(text).compactMap { if case .placeholder(let name) = $0 { name } else { nil } }
    }

    /// The environment variables carrying the same values: `FERRY_INPUT_MODEL`, `FERRY_ROUND`, …
    public static func environment(_ values: [String: String]) -> [String: String] {
        var env: [String: String] = [:]
        for (name, value) in values { env["FERRY_" + name.uppercased()] = value }
        return env
    }

    enum Token: Equatable {
        case literal(String)
        case placeholder(String)
    }

    static func tokens(_ text: String) -> [Token] {
        let chars = Array(text)
        var tokens: [Token] = []
        var literal = ""
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if (c == "{" || c == "}"), i + 1 < chars.count, chars[i + 1] == c {
                literal.append(c)
                i += 2
                continue
            }
            if c == "{" {
                var j = i + 1
                while j < chars.count, chars[j].isPlaceholderCharacter { j += 1 }
                if j > i + 1, j < chars.count, chars[j] == "}", !chars[i + 1].isNumber {
                    if !literal.isEmpty { tokens.append(.literal(literal)); literal = "" }
                    tokens.append(.placeholder(String(chars[(i + 1)..<j])))
                    i = j + 1
                    continue
                }
            }
            literal.append(c)
            i += 1
        }
        if !literal.isEmpty { tokens.append(.literal(literal)) }
        return tokens
    }
}

private extension Character {
    var isPlaceholderCharacter: Bool {
        ("a"..."z").contains(self) || ("0"..."9").contains(self) || self == "_"
    }
}
