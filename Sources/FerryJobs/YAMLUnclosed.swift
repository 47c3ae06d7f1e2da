/// Finds out whether a flow collection (`[`…`]`, `{`…`}`) or a quoted scalar that libyaml was parsing
/// when it failed is closed anywhere in the rest of the text.
///
/// libyaml reports an unclosed bracket where it gave up (often the end of the file) and keeps the
/// position of the opening bracket as its context mark; this decides whether that bracket is the culprit.
enum YAMLUnclosed {
    /// The text as libyaml counts positions: one element per character (its marks' `index`), without a BOM.
    static func characters(_ bytes: [UInt8]) -> [Unicode.Scalar] {
        var scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        return scalars
    }

    /// Whether the `[` or `{` at `start` has a matching closing bracket later in `text`; nil when
    /// there is no bracket at `start`. Quoted scalars and comments are skipped.
    static func bracketIsClosed(_ text: [Unicode.Scalar], at start: Int) -> Bool? {
        guard start >= 0, start < text.count, text[start] == "[" || text[start] == "{" else { return nil }
        var depth = 1
        var i = start + 1
        while i < text.count {
            let c = text[i]
            switch c {
            case "[", "{":
                depth += 1
            case "]", "}":
                depth -= 1
                if depth == 0 { return true }
            case "\"" where startsToken(text, i), "'" where startsToken(text, i):
                guard let end = quoteEnd(text, at: i) else { return false }
                i = end
            case "#" where i == 0 || isSpace(text[i - 1]):
                while i + 1 < text.count, !isBreak(text[i + 1]) { i += 1 }
            default:
                break
            }
            i += 1
        }
        return false
    }

    /// Whether the quote at `start` is closed later in `text`; nil when there is no quote at `start`.
    static func quoteIsClosed(_ text: [Unicode.Scalar], at start: Int) -> Bool? {
        guard start >= 0, start < text.count, text[start] == "\"" || text[start] == "'" else { return nil }
        return quoteEnd(text, at: start) != nil
    }

    /// The index of the quote closing the one at `start` (`\"` escapes in double quotes, `''` in single).
    private static func quoteEnd(_ text: [Unicode.Scalar], at start: Int) -> Int? {
        let quote = text[start]
        var i = start + 1
        while i < text.count {
            let c = text[i]
            if quote == "\"", c == "\\" {
                i += 2
                continue
            }
            if c == quote {
                if quote == "'", i + 1 < text.count, text[i + 1] == "'" {
                    i += 2
                    continue
                }
                return i
            }
            i += 1
        }
        return nil
    }

    /// A quote starts a scalar only at the start of a token (`it's` holds no quote).
    private static func startsToken(_ text: [Unicode.Scalar], _ i: Int) -> Bool {
        guard i > 0 else { return true }
        let previous = text[i - 1]
        return isSpace(previous) || isBreak(previous) || "[{,:".unicodeScalars.contains(previous)
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }
    private static func isBreak(_ c: Unicode.Scalar) -> Bool { c == "\n" || c == "\r" }
}
