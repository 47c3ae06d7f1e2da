import Yams

/// The safe YAML reading that job files get, for other YAML files of ferry (e.g. `template.yaml`).
public enum SafeYAML {
    /// Reads and composes the YAML file at `path` under `limits` (size, depth, scalar length, alias
    /// expansion). Problems are diagnostics that name `display` with line and column.
    public static func load(path: String, display: String, limits: YAMLLimits = .standard) -> Result<Node, JobValidationFailure> {
        YAMLFile.load(path: path, display: display, limits: limits)
    }
}

/// "Did you mean" suggestions, as used for job files.
public enum DidYouMean {
    /// The candidate closest to `word` when it is a plausible typo of it.
    public static func closest(to word: String, among candidates: [String]) -> String? {
        Suggestion.closest(to: word, among: candidates)
    }

    /// `did you mean 'x'?` or `allowed NOUN: a, b, c`.
    public static func hint(for word: String, among candidates: [String], noun: String = "keys") -> String {
        Suggestion.hint(for: word, among: candidates, noun: noun)
    }
}
