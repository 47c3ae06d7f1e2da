import FerryJobs

/// Everything that can go wrong while finding, reading or rendering a template.
public enum TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No template of that name in the search path.
    case templateNotFound(name: String, searched: [String], suggestion: String?)
    /// A search-path folder given by the user does not exist.
    case searchFolderMissing(path: String, origin: String)
    /// `template.yaml` (or the template folder) is malformed; each diagnostic names file, line and column.
    case invalidTemplate(directory: String, diagnostics: [Diagnostic])
    /// `--set` / `--sweep` named a variable the template does not declare.
    case unknownVariable(name: String, template: String, suggestion: String?, known: [String])
    /// A value does not parse as the variable's type.
    case invalidValue(variable: String, value: String, expected: String, hint: String)
    /// A `--set` or `--sweep` argument is not `KEY=VALUE`.
    case malformedAssignment(text: String, option: String)
    /// The same variable was given twice (`--set` twice, or in `--set` and `--sweep`).
    case duplicateVariable(name: String)
    /// A computed default (`default: "{{other}}"`) rendered to a value its type refuses.
    case invalidComputedDefault(variable: String, template: String, rendered: String, expected: String)
    /// A sweep over a list-valued variable (its values would be ambiguous with the comma separator).
    case sweepOverList(variable: String)
    /// Two sweep combinations give the same folder name.
    case sweepNameCollision(name: String)
    /// A mustache file does not parse.
    case mustacheSyntax(file: String, line: Int, column: Int, problem: String)
    /// The template tries to write outside the output folder (link, `..`, absolute or odd name).
    case unsafePath(file: String, reason: String)
    /// The rendered job does not validate.
    case invalidRenderedJob(template: String, failure: JobValidationFailure)
    /// The output folder already exists and is not empty.
    case outputExists(path: String)
    /// A file-system operation failed.
    case io(path: String, operation: String, reason: String)

    public var description: String {
        switch self {
        case let .templateNotFound(name, searched, suggestion):
            var text = "no template named '\(name)'"
            if let suggestion { text += "; did you mean '\(suggestion)'?" }
            text += searched.isEmpty
                ? "\n    hint: no template folder was found; pass --templates DIR or set FERRY_TEMPLATES"
                : "\n    searched: " + searched.joined(separator: ", ") + "\n    hint: `ferry job templates` lists the templates"
            return text
        case let .searchFolderMissing(path, origin):
            return "template folder '\(path)' (from \(origin)) does not exist\n    hint: give a folder that holds template folders (each with a template.yaml)"
        case let .invalidTemplate(directory, diagnostics):
            return "invalid template at \(directory):\n" + diagnostics.map(\.description).joined(separator: "\n")
        case let .unknownVariable(name, template, suggestion, known):
            var text = "unknown variable '\(name)' for template '\(template)'"
            if let suggestion { text += "; did you mean '\(suggestion)'?" }
            return text + "\n    hint: variables: " + known.joined(separator: ", ") + " (see `ferry job templates \(template)`)"
        case let .invalidValue(variable, value, expected, hint):
            return "variable '\(variable)' expects \(expected), got '\(value)'\n    hint: \(hint)"
        case let .malformedAssignment(text, option):
            return "\(option) '\(text)' is not KEY=VALUE\n    hint: write e.g. \(option) rounds=5"
        case let .duplicateVariable(name):
            return "variable '\(name)' is given more than once\n    hint: give each variable once, with --set or with --sweep"
        case let .invalidComputedDefault(variable, template, rendered, expected):
            return "template '\(template)': the default of '\(variable)' rendered to '\(rendered)', which is not \(expected)\n"
                + "    hint: set it explicitly with --set \(variable)=VALUE, or fix the default in template.yaml"
        case let .sweepOverList(variable):
            return "cannot sweep '\(variable)': it is a list, and commas separate the sweep's values\n"
                + "    hint: render one job per list with --set \(variable)=a,b"
        case let .sweepNameCollision(name):
            return "two sweep combinations would both be named '\(name)'\n    hint: use sweep values that differ in letters or digits"
        case let .mustacheSyntax(file, line, column, problem):
            return "\(file):\(line):\(column): error: mustache syntax: \(problem)\n    hint: check the {{…}} tags on this line; sections need a matching {{/name}}"
        case let .unsafePath(file, reason):
            return "\(file): refused: \(reason)\n    hint: a template's job/ tree holds only plain files and folders whose names stay inside the job folder"
        case let .invalidRenderedJob(template, failure):
            let count = failure.diagnostics.count
            return "template '\(template)' rendered an invalid job (\(count) error\(count == 1 ? "" : "s")); nothing was written:\n"
                + failure.description
                + "\n    hint: check the values given with --set; if they are right, the template itself needs fixing"
        case let .outputExists(path):
            return "'\(path)' already exists and is not empty\n    hint: choose a new folder, or remove it first"
        case let .io(path, operation, reason):
            return "\(path): cannot \(operation): \(reason)"
        }
    }
}
