import Foundation

/// Finds arguments of an executor command that name files in the app folder (where the executor
/// runs) but name none that exists, e.g. `[python3, custom/trian.py]`.
///
/// Only arguments that clearly are paths into the app folder are checked, so options, values and
/// files the executor writes are never flagged: a relative path with a script extension (`.py`,
/// `.sh`, `.R`, …), or a relative path whose folder is shipped in the app folder
/// (`configs/base.yaml` when `configs/` exists). Options (`-x`, `--x`), placeholders, absolute
/// paths, `~`, `..` and URLs are left alone.
struct CommandFileCheck {
    static let scriptExtensions: Set<String> = ["py", "sh", "bash", "zsh", "r", "jl", "pl", "rb", "js", "mjs", "lua"]
    /// At most this many files of the app folder are listed for a "did you mean".
    static let suggestionFileLimit = 5_000

    let appDirectory: String

    /// The problem with `argument` (an argument after the program), or nil when it is fine or not a path.
    func problem(_ argument: String) -> (message: String, hint: String)? {
        guard let relative = Self.appRelativePath(argument) else { return nil }
        let components = relative.split(separator: "/").map(String.init)
        let isScript = components.last.map { Self.scriptExtensions.contains(($0 as NSString).pathExtension.lowercased()) } ?? false
        if !isScript {
            guard components.count > 1 else { return nil }
            var isDirectory: ObjCBool = false
            let folder = (appDirectory as NSString).appendingPathComponent(components.dropLast().joined(separator: "/"))
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        }
        let full = (appDirectory as NSString).appendingPathComponent(relative)
        if FileManager.default.fileExists(atPath: full) { return nil }
        let message = "'executor.command' names '\(argument)', which does not exist in the app folder"
        if let match = Suggestion.closest(to: relative, among: appFiles()) {
            return (message, "did you mean '\(match)'? (relative paths are resolved in the app folder, where the executor runs)")
        }
        return (message, "put the file at \(full), or fix the path (relative paths are resolved in the app folder, where the executor runs)")
    }

    /// A suggestion for a missing program given as a relative path, if a file of the app folder is close.
    func suggestion(for program: String) -> String? {
        guard let relative = Self.appRelativePath(program) else { return nil }
        return Suggestion.closest(to: relative, among: appFiles())
    }

    /// `argument` as a path relative to the app folder (without `./`), or nil when it is not one.
    static func appRelativePath(_ argument: String) -> String? {
        guard let first = argument.first, first != "-", first != "/", first != "~",
              !argument.contains("{"), !argument.contains("}"), !argument.contains("://"), !argument.contains("="),
              !argument.contains(where: \.isWhitespace) else { return nil }
        let components = argument.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !components.isEmpty, !components.contains("..") else { return nil }
        return components.joined(separator: "/")
    }

    /// The files under the app folder, as relative paths (hidden entries left out).
    private func appFiles() -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: appDirectory) else { return [] }
        var files: [String] = []
        while let path = walker.nextObject() as? String, files.count < Self.suggestionFileLimit {
            let name = (path as NSString).lastPathComponent
            if name.hasPrefix(".") { walker.skipDescendants(); continue }
            if (walker.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { continue }
            files.append(path)
        }
        return files
    }
}
