import Foundation
import FerrySupport
import Yams

/// The role of a site in a federation.
public enum SiteRole: String, Codable, Sendable, CaseIterable {
    /// The site that holds the job store and drives the workflows (exactly one per federation).
    case server
    /// A site that trains.
    case client
}

/// One site as listed in a project file.
public struct ProjectSite: Sendable, Equatable {
    /// Site name: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`, unique in the project.
    public var name: String
    /// Server or client.
    public var role: SiteRole
    /// Where the site's workspace goes, as written (absolute, or relative to the project file's folder);
    /// `nil` for the default `<output>/<project>/<site>`.
    public var workspace: String?
    /// Where the site's inbox goes, as written (absolute, or relative to the project file's folder);
    /// `nil` for `<workspace>/inbox`.
    public var inbox: String?

    /// Creates a site entry.
    public init(name: String, role: SiteRole, workspace: String? = nil, inbox: String? = nil) {
        self.name = name
        self.role = role
        self.workspace = workspace
        self.inbox = inbox
    }
}

/// A project file: the sites of a federation and where their workspaces live (see docs/workspaces.md).
public struct ProjectFile: Sendable, Equatable {
    /// Project name: `[a-z0-9][a-z0-9._-]{0,63}`.
    public var name: String
    /// Optional free text.
    public var description: String?
    /// The sites, the server first.
    public var sites: [ProjectSite]
    /// Default poll interval recorded in every site.yaml (`nil`: the watcher's default).
    public var poll: Duration?
    /// The folder relative `workspace:` / `inbox:` paths are resolved against (the project file's folder).
    public var baseDirectory: String

    /// Creates a project in memory (as `ferry poc` does for a throwaway federation).
    public init(name: String, description: String? = nil, sites: [ProjectSite], poll: Duration? = nil,
                baseDirectory: String = FileManager.default.currentDirectoryPath) {
        self.name = name
        self.description = description
        self.sites = sites
        self.poll = poll
        self.baseDirectory = baseDirectory
    }

    /// A project with one `server` and clients `site-1` … `site-N`.
    public static func standard(name: String, clients: Int, poll: Duration? = nil,
                                baseDirectory: String = FileManager.default.currentDirectoryPath) -> ProjectFile {
        var sites = [ProjectSite(name: "server", role: .server)]
        for i in 0..<max(clients, 0) { sites.append(ProjectSite(name: "site-\(i + 1)", role: .client)) }
        return ProjectFile(name: name, sites: sites, poll: poll, baseDirectory: baseDirectory)
    }

    /// The server site.
    public var server: ProjectSite? { sites.first { $0.role == .server } }
    /// The client sites, in file order.
    public var clients: [ProjectSite] { sites.filter { $0.role == .client } }

    /// The largest project file accepted.
    public static let maxFileBytes = 1 << 20

    /// Reads and validates a project file; every problem is reported at once with its line and column.
    public static func load(path: String) throws(WorkspaceError) -> ProjectFile {
        let url = URL(fileURLWithPath: path)
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let attributes else {
            throw .invalidProject([ProjectDiagnostic(file: path, line: 0, column: 0,
                                                     message: "cannot read the project file (does it exist?)")])
        }
        if let size = attributes[.size] as? Int, size > maxFileBytes {
            throw .invalidProject([ProjectDiagnostic(file: path, line: 0, column: 0,
                                                     message: "project file is \(size) bytes; the limit is 1 MiB")])
        }
        guard let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else {
            throw .invalidProject([ProjectDiagnostic(file: path, line: 0, column: 0,
                                                     message: "cannot read the project file as UTF-8 text")])
        }
        return try parse(yaml: text, file: path,
                         baseDirectory: url.standardizedFileURL.deletingLastPathComponent().path)
    }

    /// Parses and validates project-file text. `file` names the source in diagnostics.
    public static func parse(yaml text: String, file: String, baseDirectory: String) throws(WorkspaceError) -> ProjectFile {
        var parser = ProjectParser(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw .invalidProject([parser.yamlDiagnostic(error)])
        }
        guard let root else {
            throw .invalidProject([ProjectDiagnostic(file: file, line: 1, column: 1, message: "the project file is empty",
                                                     hint: "start with `name: demo` and a `sites:` list or `clients: 2`")])
        }
        let project = parser.project(root, baseDirectory: baseDirectory)
        if !parser.diagnostics.isEmpty || project == nil { throw .invalidProject(parser.diagnostics) }
        return project!
    }
}

/// Name rules shared by projects and sites.
enum NameRules {
    static func isValidProjectName(_ s: String) -> Bool {
        valid(s, first: "abcdefghijklmnopqrstuvwxyz0123456789", rest: "abcdefghijklmnopqrstuvwxyz0123456789._-")
    }

    static func isValidSiteName(_ s: String) -> Bool {
        let alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return valid(s, first: alnum, rest: alnum + "._-")
    }

    private static func valid(_ s: String, first: String, rest: String) -> Bool {
        guard let head = s.first, s.count <= 64, first.contains(head) else { return false }
        return s.dropFirst().allSatisfy { rest.contains($0) }
    }

    /// The closest candidate within edit distance 2, for "did you mean" hints.
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
