/// The rules every path inside a job archive follows, checked when packing and when reading.
enum EntryPath {
    /// Longest accepted path, in UTF-8 bytes.
    static let maxBytes = 1024
    /// Longest accepted path component, in UTF-8 bytes.
    static let maxComponentBytes = 255

    /// Throws ``ArchiveError/unsafePath(path:reason:)`` unless `path` is a plain relative path:
    /// not empty, no leading `/`, no empty, `.` or `..` components, no backslash, no control characters.
    static func check(_ path: String) throws {
        func refuse(_ reason: String) -> ArchiveError { .unsafePath(path: path, reason: reason) }
        guard !path.isEmpty else { throw refuse("the path is empty") }
        guard !path.hasPrefix("/") else { throw refuse("absolute paths are not allowed") }
        guard path.utf8.count <= maxBytes else { throw refuse("longer than \(maxBytes) bytes") }
        for scalar in path.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F { throw refuse("control characters are not allowed") }
            if scalar == "\\" { throw refuse("backslashes are not allowed (use / as separator)") }
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { throw refuse("empty path components ('//' or a trailing '/') are not allowed") }
            if component == ".." { throw refuse("'..' components are not allowed") }
            if component == "." { throw refuse("'.' components are not allowed") }
            if component.utf8.count > maxComponentBytes {
                throw refuse("a component is longer than \(maxComponentBytes) bytes")
            }
        }
    }

    /// The parent path of `path` ("" for a top-level entry).
    static func parent(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return String(path[..<slash])
    }
}
