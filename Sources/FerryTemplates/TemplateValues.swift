import FerryJobs
import Mustache

/// `KEY=VALUE` as given to `--set` (or one value of a `--sweep`).
public struct TemplateAssignment: Sendable, Equatable {
    /// The variable name.
    public var name: String
    /// The value text, not yet parsed.
    public var value: String

    /// Creates an assignment.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Splits `KEY=VALUE` at the first `=`; `option` names the flag in errors (`--set`).
    public static func parse(_ text: String, option: String = "--set") throws(TemplateError) -> TemplateAssignment {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw .malformedAssignment(text: text, option: option)
        }
        return TemplateAssignment(name: String(text[..<equals]).trimmed, value: String(text[text.index(after: equals)...]))
    }
}

/// The typed values of every variable of a template for one render: the given ones parsed, the others
/// from their defaults (computed defaults rendered from the variables declared before them).
public struct TemplateValues: Sendable, Equatable {
    /// Variable name → value, for every declared variable.
    public private(set) var values: [String: TemplateValue]
    /// Names given explicitly (not defaults).
    public private(set) var given: Set<String>

    /// Resolves `assignments` against `template`'s variables.
    ///
    /// Unknown names are refused with a "did you mean"; each value is parsed as its variable's type.
    public init(template: JobTemplate, assignments: [TemplateAssignment]) throws(TemplateError) {
        var raw: [String: String] = [:]
        for assignment in assignments {
            guard let variable = template.variable(named: assignment.name) else {
                throw Self.unknown(assignment.name, template: template)
            }
            guard raw[variable.name] == nil else { throw .duplicateVariable(name: variable.name) }
            raw[variable.name] = assignment.value
        }
        values = [:]
        given = Set(raw.keys)
        for variable in template.variables {
            if let text = raw[variable.name] {
                values[variable.name] = try TemplateValue.parse(text, for: variable)
            } else if variable.hasComputedDefault {
                let rendered = Self.renderDefault(variable.defaultText, context: Self.context(values, template.variables))
                do { values[variable.name] = try TemplateValue.parse(rendered, for: variable) } catch {
                    throw .invalidComputedDefault(variable: variable.name, template: template.name, rendered: rendered,
                                                  expected: variable.type.expectation)
                }
            } else {
                do { values[variable.name] = try TemplateValue.parse(variable.defaultText, for: variable) } catch {
                    throw .invalidComputedDefault(variable: variable.name, template: template.name, rendered: variable.defaultText,
                                                  expected: variable.type.expectation)
                }
            }
        }
    }

    /// The error for a name the template does not declare.
    static func unknown(_ name: String, template: JobTemplate) -> TemplateError {
        let names = template.variables.map(\.name)
        return .unknownVariable(name: name, template: template.name,
                                suggestion: Suggestion.closest(to: name, among: names), known: names)
    }

    /// The mustache context: every variable, plus `NAME_count` and `NAME_yaml` for lists and sites and
    /// `NAME_yaml` for strings, plus `job_name` and `template_name`.
    public func mustacheContext(template: JobTemplate, jobName: String) -> [String: Any] {
        var context = Self.context(values, template.variables)
        context["job_name"] = jobName
        context["template_name"] = template.name
        return context
    }

    static func context(_ values: [String: TemplateValue], _ variables: [TemplateVariable]) -> [String: Any] {
        var context: [String: Any] = [:]
        for variable in variables {
            guard let value = values[variable.name] else { continue }
            switch value {
            case .int(let v): context[variable.name] = v
            case .number(let v): context[variable.name] = TemplateValue.format(v)
            case .bool(let v): context[variable.name] = v
            case .string(let v):
                context[variable.name] = v
                context[variable.name + "_yaml"] = YAMLText.scalar(v)
            case .measure(let v): context[variable.name] = v
            case .list(let items):
                context[variable.name] = items
                context[variable.name + "_count"] = items.count
                context[variable.name + "_yaml"] = YAMLText.flowList(items)
            }
        }
        return context
    }

    private static func renderDefault(_ text: String, context: [String: Any]) -> String {
        guard let template = try? MustacheTemplate(string: MustacheText.plain(text)) else { return text }
        return template.render(context)
    }
}

/// YAML spellings of values for `NAME_yaml`.
enum YAMLText {
    /// `word` when it is safe unquoted, otherwise a double-quoted scalar with escapes.
    static func scalar(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._/-+".unicodeScalars.contains($0)
        } && !["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"].contains(text.lowercased())
            && Double(text) == nil && !text.hasPrefix("-")
        if plain { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `[a, b, "c d"]`.
    static func flowList(_ items: [String]) -> String {
        "[" + items.map(scalar).joined(separator: ", ") + "]"
    }
}

/// Mustache set-up shared by every render: plain-text output (no HTML escaping).
enum MustacheText {
    /// The config tag that switches swift-mustache from HTML escaping to plain text. It stands alone
    /// on the first line, so it takes no room in the output.
    static let header = "{{% CONTENT_TYPE: TEXT }}\n"

    /// `text` prefixed with ``header``; parse errors are one line later than in `text`.
    static func plain(_ text: String) -> String { header + text }
}
