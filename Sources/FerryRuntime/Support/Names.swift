/// Identifiers: rounds and tasks formatted the way file names use them.
enum Names {
    /// `r` zero-padded to four digits (`0007`), as in `round-0007` and `train-r0007`.
    static func round(_ r: Int) -> String {
        var s = String(r)
        while s.count < 4 { s = "0" + s }
        return s
    }
}
