import FerryJobs
import Foundation

/// Where templates are looked for, in order: `--templates DIR` (each, in the order given), then
/// `$FERRY_TEMPLATES` (folders separated by `:`), then the built-in `templates/` folder. A name found
/// in an earlier folder hides the same name in later ones.
public struct TemplateLibrary: Sendable {
    /// One folder of the search path.
    public struct Folder: Sendable, Equatable {
        /// The folder, holding one sub-folder per template.
        public var path: String
        /// Where it came from: `--templates`, `FERRY_TEMPLATES` or `built-in`.
        public var origin: String
    }

    /// One template found while listing: loaded, or the reason it could not be.
    public struct Listing: Sendable {
        /// The template's folder name.
        public var name: String
        /// The folder of the search path it is in.
        public var folder: Folder
        /// The template, or why it failed to load.
        public var template: Result<JobTemplate, TemplateError>
        /// True when a template of the same name earlier in the search path hides this one.
        public var hidden: Bool
    }

    /// The search path, first folder first.
    public let folders: [Folder]

    /// Creates a library over explicit folders.
    public init(folders: [Folder]) {
        self.folders = folders
    }

    /// The environment variable naming extra template folders.
    public static let environmentVariable = "FERRY_TEMPLATES"

    /// Builds the search path; folders given by the user must exist.
    ///
    /// - Parameters:
    ///   - options: `--templates` values.
    ///   - environment: the process environment (for `FERRY_TEMPLATES`).
    ///   - executable: the running executable's path; the built-in folder is found by walking up from
    ///     its folder (and checking `share/ferry/templates` beside it), then up from `currentDirectory`.
    public static func locate(options: [String], environment: [String: String], executable: String?,
                              currentDirectory: String) throws(TemplateError) -> TemplateLibrary {
        var folders: [Folder] = []
        for path in options {
            guard isDirectory(path) else { throw .searchFolderMissing(path: path, origin: "--templates") }
            folders.append(Folder(path: path, origin: "--templates"))
        }
        if let value = environment[environmentVariable] {
            for path in value.split(separator: ":").map(String.init) where !path.isEmpty {
                guard isDirectory(path) else { throw .searchFolderMissing(path: path, origin: environmentVariable) }
                folders.append(Folder(path: path, origin: environmentVariable))
            }
        }
        if let builtIn = builtInFolder(executable: executable, currentDirectory: currentDirectory) {
            folders.append(Folder(path: builtIn, origin: "built-in"))
        }
        return TemplateLibrary(folders: folders)
    }

    /// The built-in `templates/` folder: the first folder named `templates` holding at least one
    /// `*/template.yaml`, walking up from the executable's folder, then from `currentDirectory`.
    public static func builtInFolder(executable: String?, currentDirectory: String) -> String? {
        var starts: [String] = []
        if let executable {
            let resolved = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent().path
            let share = ((resolved as NSString).deletingLastPathComponent as NSString).appendingPathComponent("share/ferry/templates")
            if holdsTemplates(share) { return share }
            starts.append(resolved)
        }
        starts.append(URL(fileURLWithPath: currentDirectory).standardizedFileURL.path)
        for start in starts {
            var dir = start
            while true {
                let candidate = (dir as NSString).appendingPathComponent("templates")
                if holdsTemplates(candidate) { return candidate }
                let parent = (dir as NSString).deletingLastPathComponent
                if parent == dir || parent.isEmpty { break }
                dir = parent
            }
        }
        return nil
    }

    /// Every template in the search path, sorted by name, hidden ones after the one that hides them.
    public func list() -> [Listing] {
        var listings: [Listing] = []
        var seen = Set<String>()
        for folder in folders {
            for name in Self.templateNames(in: folder.path) {
                let path = (folder.path as NSString).appendingPathComponent(name)
                let template: Result<JobTemplate, TemplateError>
                do { template = .success(try JobTemplate.load(directory: path)) } catch { template = .failure(error) }
                listings.append(Listing(name: name, folder: folder, template: template, hidden: seen.contains(name)))
                seen.insert(name)
            }
        }
        return listings.enumerated().sorted { a, b in
            a.element.name != b.element.name ? a.element.name < b.element.name : a.offset < b.offset
        }.map(\.element)
    }

    /// The template called `name` (the first in the search path), or the one in the folder `name`
    /// when it is a path (contains `/`).
    public func find(_ name: String) throws(TemplateError) -> JobTemplate {
        if name.contains("/") {
            return try JobTemplate.load(directory: name)
        }
        for folder in folders {
            let path = (folder.path as NSString).appendingPathComponent(name)
            if Self.isFile((path as NSString).appendingPathComponent("template.yaml")) {
                return try JobTemplate.load(directory: path)
            }
        }
        let all = Array(Set(folders.flatMap { Self.templateNames(in: $0.path) })).sorted()
        throw .templateNotFound(name: name, searched: folders.map { "\($0.path) (\($0.origin))" },
                                suggestion: Suggestion.closest(to: name, among: all))
    }

    /// Sub-folders of `folder` that hold a template.yaml, sorted.
    static func templateNames(in folder: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { !$0.hasPrefix(".") && isFile((folder as NSString).appendingPathComponent("\($0)/template.yaml")) }.sorted()
    }

    private static func holdsTemplates(_ folder: String) -> Bool {
        isDirectory(folder) && !templateNames(in: folder).isEmpty
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
