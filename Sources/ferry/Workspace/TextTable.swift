/// Left-aligned text columns separated by two spaces, for the job commands' human output.
struct TextTable {
    var rows: [[String]]

    init(header: [String]? = nil) { rows = header.map { [$0] } ?? [] }

    mutating func add(_ row: [String]) { rows.append(row) }

    /// The table's lines, each indented by `indent` and without trailing spaces.
    func lines(indent: String = "") -> [String] {
        let count = rows.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            var line = indent
            for (i, cell) in row.enumerated() {
                line += i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    /// The table as text with a final newline (empty when there are no rows).
    var text: String { rows.isEmpty ? "" : lines().joined(separator: "\n") + "\n" }
}
