/// A report template that cannot be used (`ferry report --template FILE`).
public enum ReportTemplateError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file cannot be read, is not UTF-8 or is too large.
    case unreadable(file: String, reason: String)
    /// The file is not valid mustache; `line` and `column` are 1-based.
    case syntax(file: String, line: Int, column: Int, problem: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot use it as a report template: \(reason)"
        case let .syntax(file, line, column, problem):
            return "\(file):\(line):\(column): error: mustache syntax: \(problem)\n"
                + "    hint: sections need a matching {{/name}}; `ferry report --print-template` prints the default template to start from"
        }
    }
}
