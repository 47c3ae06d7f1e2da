import FerryJobs
import FerrySupport

/// The type of a template variable; it decides how `--set KEY=VALUE` text is parsed.
public enum VariableType: Sendable, Equatable {
    /// A whole number, optionally bounded by `min` / `max`.
    case int(min: Int?, max: Int?)
    /// A decimal number, optionally bounded.
    case number(min: Double?, max: Double?)
    /// Any text.
    case string
    /// `true`/`false` (also yes/no, on/off, 1/0).
    case bool
    /// A duration such as `90s`, `10m`, `1h30m`.
    case duration
    /// A size such as `512KiB`, `8MiB`.
    case size
    /// One of a fixed set of words.
    case choice([String])
    /// Comma-separated strings.
    case list
    /// Client sites: a count N (`site-1` … `site-N`) or comma-separated site names.
    case sites

    /// The word used in template.yaml's `type:` field.
    public var keyword: String {
        switch self {
        case .int: "int"
        case .number: "number"
        case .string: "string"
        case .bool: "bool"
        case .duration: "duration"
        case .size: "size"
        case .choice: "enum"
        case .list: "list"
        case .sites: "sites"
        }
    }

    /// Every `type:` keyword, for messages.
    public static let keywords = ["int", "number", "string", "bool", "duration", "size", "enum", "list", "sites"]

    /// What the type accepts, for messages and `ferry job templates NAME`.
    public var summary: String {
        switch self {
        case let .int(min, max): "int" + Self.bounds(min.map(String.init), max.map(String.init))
        case let .number(min, max): "number" + Self.bounds(min.map { "\($0)" }, max.map { "\($0)" })
        case .string: "string"
        case .bool: "bool"
        case .duration: "duration"
        case .size: "size"
        case let .choice(choices): "enum(" + choices.joined(separator: "|") + ")"
        case .list: "list"
        case .sites: "sites"
        }
    }

    private static func bounds(_ min: String?, _ max: String?, range: String = "...") -> String {
        switch (min, max) {
        case (nil, nil): ""
        case let (lo?, hi?): " \(lo)\(range)\(hi)"
        case let (lo?, nil): " >= \(lo)"
        case let (nil, hi?): " <= \(hi)"
        }
    }

    /// The phrase "expects …" in error messages.
    var expectation: String {
        switch self {
        case let .int(min, max):
            "a whole number" + Self.bounds(min.map(String.init), max.map(String.init), range: " to ")
        case let .number(min, max):
            "a number" + Self.bounds(min.map { "\($0)" }, max.map { "\($0)" }, range: " to ")
        case .string: "a string"
        case .bool: "true or false"
        case .duration: "a duration"
        case .size: "a size"
        case let .choice(choices): "one of " + choices.joined(separator: ", ")
        case .list: "a comma-separated list"
        case .sites: "a site count or comma-separated site names"
        }
    }
}

/// One variable declared in a template's `template.yaml`.
public struct TemplateVariable: Sendable, Equatable {
    /// The name used in `--set NAME=VALUE` and in `{{NAME}}`.
    public var name: String
    /// How values are parsed.
    public var type: VariableType
    /// The default as written in template.yaml; may reference earlier variables (`{{quantization}}`).
    public var defaultText: String
    /// One line of help.
    public var help: String

    /// Creates a variable.
    public init(name: String, type: VariableType, defaultText: String, help: String) {
        self.name = name
        self.type = type
        self.defaultText = defaultText
        self.help = help
    }

    /// True when the default is computed from other variables.
    public var hasComputedDefault: Bool { defaultText.contains("{{") }

    /// Variable names: a lowercase letter, then lowercase letters, digits or `_`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
