/// "Did you mean" suggestions for misspelled keys and values.
package enum Suggestion {
    /// The candidate closest to `word` if it is close enough to be a plausible typo.
    package static func closest(to word: String, among candidates: [String]) -> String? {
        let lower = word.lowercased()
        var best: (String, Int)?
        for candidate in candidates {
            let d = distance(lower, candidate.lowercased())
            if best == nil || d < best!.1 { best = (candidate, d) }
        }
        guard let (candidate, d) = best else { return nil }
        let limit = max(1, min(3, candidate.count / 3 + 1))
        if d <= limit { return candidate }
        // Prefix/containment, e.g. `chunk_size` for `chunk`.
        if lower.count >= 3, candidate.lowercased().hasPrefix(lower) || lower.hasPrefix(candidate.lowercased()) {
            return candidate
        }
        return nil
    }

    /// A hint naming the closest candidate, or listing the allowed ones.
    package static func hint(for word: String, among candidates: [String], noun: String = "keys") -> String {
        if let match = closest(to: word, among: candidates) { return "did you mean '\(match)'?" }
        return "allowed \(noun): " + candidates.joined(separator: ", ")
    }

    /// Levenshtein distance (insert, delete, substitute; transposition counts as one edit).
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prevPrev = [Int](repeating: 0, count: y.count + 1)
        var prev = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var value = min(prev[j] + 1, current[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    value = min(value, prevPrev[j - 2] + 1)
                }
                current[j] = value
            }
            (prevPrev, prev, current) = (prev, current, prevPrev)
        }
        return prev[y.count]
    }
}
