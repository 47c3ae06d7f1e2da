import Foundation

extension RT {
    /// Appends `text` to the file at `path` (e.g. keys to an app.yaml or a site.yaml).
    static func append(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    /// The file's text, or "" when it cannot be read.
    static func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}
