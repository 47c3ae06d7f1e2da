/// One problem found in a job folder, located in a file by line and column.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    /// The file as shown to the user (the job directory joined with the relative path).
    public var file: String
    /// Line, starting at 1.
    public var line: Int
    /// Column, starting at 1 (counted in Unicode scalars, as libyaml does).
    public var column: Int
    /// What is wrong.
    public var message: String
    /// How to fix it.
    public var hint: String

    /// Creates a diagnostic.
    public init(file: String, line: Int, column: Int, message: String, hint: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    /// `FILE:LINE:COL: error: WHAT` followed by an indented `hint: …` line.
    public var description: String {
        var text = "\(file):\(line):\(column): error: \(message)"
        if !hint.isEmpty { text += "\n    hint: \(hint)" }
        return text
    }
}

/// A job folder failed validation; holds every problem found, in file order.
public struct JobValidationFailure: Error, CustomStringConvertible, Sendable, Equatable {
    /// All problems found (every error of every file, not just the first).
    public var diagnostics: [Diagnostic]

    /// Creates a failure from its diagnostics.
    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    /// One diagnostic per line (each followed by its hint line).
    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// The name used for ``JobValidationFailure`` in docs/architecture.md.
public typealias JobValidationError = JobValidationFailure
