extension FieldReader {
    /// A real number in `range`, or nil (with a diagnostic when present but not a number in range).
    func number(_ key: String, range: ClosedRange<Double>, required hint: String? = nil) -> Double? {
        ranged(key, range: range, required: hint, expected: "a number",
               example: "write a decimal number, e.g. `\(key): 0.1`") { Double($0).flatMap { $0.isFinite ? $0 : nil } }
    }

    /// A value `parse` reads from the scalar, in `range`; nil with a diagnostic when it does not parse
    /// (`expected`, `example`) or lies outside `range`.
    func ranged<T: Comparable>(_ key: String, range: ClosedRange<T>, required hint: String?, expected: String,
                               example: String, parse: (String) -> T?) -> T? {
        guard let node = hint.map({ required(key, hint: $0) }) ?? value(key),
              let text = scalarText(node, key: key, expected: expected) else { return nil }
        guard let number = parse(text.replacingUnderscores()) else {
            context.error("'\(qualified(key))' must be \(expected), found '\(text)'", at: node.mark, hint: example)
            return nil
        }
        guard range.contains(number) else {
            context.error("'\(qualified(key))' is \(number), outside \(range.lowerBound)...\(range.upperBound)", at: node.mark,
                          hint: "choose a value from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return number
    }
}
