extension FieldReader {
    /// A real number in `range`, or nil (with a diagnostic when present but not a number in range).
    func number(_ key: String, range: ClosedRange<Double>, required hint: String? = nil) -> Double? {
        guard let node = hint.map({ required(key, hint: $0) }) ?? value(key),
              let text = scalarText(node, key: key, expected: "a number") else { return nil }
        guard let number = Double(text.replacingUnderscores()), number.isFinite else {
            context.error("'\(qualified(key))' must be a number, found '\(text)'", at: node.mark,
                          hint: "write a decimal number, e.g. `\(key): 0.1`")
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
