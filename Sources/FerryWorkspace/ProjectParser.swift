import Foundation
import FerrySupport
import Yams

/// Walks a project file's node tree, collecting every problem with its position.
struct ProjectParser {
    let file: String
    var diagnostics: [ProjectDiagnostic] = []

    init(file: String) { self.file = file }

    static let topKeys = ["name", "description", "sites", "clients", "poll"]
    static let siteKeys = ["name", "role", "workspace", "inbox"]
    static let maxClients = 1000

    mutating func error(_ node: Node?, _ message: String, hint: String? = nil) {
        let mark = node?.mark
        diagnostics.append(ProjectDiagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1,
                                             message: message, hint: hint))
    }

    func yamlDiagnostic(_ error: any Error) -> ProjectDiagnostic {
        if let yaml = error as? YamlError {
            switch yaml {
            case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
                return ProjectDiagnostic(file: file, line: mark.line, column: mark.column,
                                         message: "YAML syntax error: \(problem)")
            case let .duplicatedKeysInMapping(duplicates, context):
                return ProjectDiagnostic(file: file, line: context.mark.line, column: context.mark.column,
                                         message: "duplicate key \(duplicates.joined(separator: ", "))")
            default:
                break
            }
        }
        return ProjectDiagnostic(file: file, line: 1, column: 1, message: "YAML error: \(error)")
    }

    /// A string scalar, or an error naming `field`.
    mutating func string(_ node: Node, field: String) -> String? {
        guard case let .scalar(scalar) = node else {
            error(node, "'\(field)' must be a text value")
            return nil
        }
        return scalar.string
    }

    mutating func checkKeys(_ mapping: Node.Mapping, allowed: [String], context: String) {
        for key in mapping.keys {
            guard let name = key.string else {
                error(key, "keys in \(context) must be text")
                continue
            }
            if !allowed.contains(name) {
                let hint = NameRules.suggestion(for: name, among: allowed).map { "did you mean '\($0)'?" }
                    ?? "allowed keys: \(allowed.joined(separator: ", "))"
                error(key, "unknown key '\(name)' in \(context)", hint: hint)
            }
        }
    }

    mutating func project(_ root: Node, baseDirectory: String) -> ProjectFile? {
        guard case let .mapping(top) = root else {
            error(root, "the project file must be a mapping with `name:` and `sites:` (or `clients:`)")
            return nil
        }
        checkKeys(top, allowed: Self.topKeys, context: "the project file")

        var name: String?
        if let node = top["name"] {
            if let value = string(node, field: "name") {
                if NameRules.isValidProjectName(value) { name = value } else {
                    error(node, "invalid project name '\(value)'",
                          hint: "use 1-64 characters: lowercase letters, digits, '.', '_', '-', starting with a letter or digit")
                }
            }
        } else {
            error(root, "missing required key 'name'", hint: "add `name: demo` (the project's name)")
        }

        var description: String?
        if let node = top["description"] { description = string(node, field: "description") }

        var poll: Duration?
        if let node = top["poll"], let text = string(node, field: "poll") {
            do {
                let value = try DurationText.parse(text)
                if value <= .zero { error(node, "'poll' must be longer than zero") } else { poll = value }
            } catch {
                self.error(node, "invalid 'poll' duration '\(text)'", hint: "use e.g. 200ms, 1s, 5s")
            }
        }

        var sites: [ProjectSite] = []
        switch (top["sites"], top["clients"]) {
        case (nil, nil):
            error(root, "missing 'sites' (or 'clients')",
                  hint: "list the sites (`sites: [{name: server, role: server}, {name: site-1, role: client}]`) or write `clients: 2`")
        case let (.some(sitesNode), .some(clientsNode)):
            error(clientsNode, "'clients' and 'sites' cannot both be given",
                  hint: "keep 'sites' (line \(sitesNode.mark?.line ?? 0)) and list the clients there, or keep only 'clients'")
        case let (nil, .some(node)):
            if case .scalar = node, let count = node.int, count >= 1, count <= Self.maxClients {
                sites = ProjectFile.standard(name: "x", clients: count).sites
            } else {
                error(node, "'clients' must be a whole number from 1 to \(Self.maxClients)")
            }
        case let (.some(node), nil):
            sites = parseSites(node)
        }

        guard diagnostics.isEmpty, let name else { return nil }
        return ProjectFile(name: name, description: description, sites: sites, poll: poll, baseDirectory: baseDirectory)
    }

    mutating func parseSites(_ node: Node) -> [ProjectSite] {
        guard case let .sequence(list) = node else {
            error(node, "'sites' must be a list of sites", hint: "write `- {name: site-1, role: client}` entries")
            return []
        }
        var sites: [ProjectSite] = []
        var seen: [String: Int] = [:]
        for item in list {
            guard case let .mapping(entry) = item else {
                error(item, "each site must be a mapping with 'name' and 'role'")
                continue
            }
            checkKeys(entry, allowed: Self.siteKeys, context: "a site")
            var site = ProjectSite(name: "", role: .client)
            var ok = true
            if let n = entry["name"], let value = string(n, field: "name") {
                if !NameRules.isValidSiteName(value) {
                    error(n, "invalid site name '\(value)'",
                          hint: "use 1-64 characters: letters, digits, '.', '_', '-', starting with a letter or digit")
                    ok = false
                } else if let line = seen[value] {
                    error(n, "duplicate site name '\(value)' (first listed on line \(line))")
                    ok = false
                } else {
                    seen[value] = n.mark?.line ?? 0
                    site.name = value
                }
            } else {
                if entry["name"] == nil { error(item, "site is missing 'name'") }
                ok = false
            }
            if let r = entry["role"], let value = string(r, field: "role") {
                if let role = SiteRole(rawValue: value) { site.role = role } else {
                    error(r, "invalid role '\(value)'", hint: "use 'server' or 'client'")
                    ok = false
                }
            } else {
                if entry["role"] == nil { error(item, "site is missing 'role'", hint: "add `role: client` or `role: server`") }
                ok = false
            }
            for key in ["workspace", "inbox"] {
                guard let p = entry[key], let value = string(p, field: key) else { continue }
                if value.isEmpty || value.contains("\0") {
                    error(p, "'\(key)' must be a non-empty path")
                    ok = false
                } else if key == "workspace" { site.workspace = value } else { site.inbox = value }
            }
            if ok { sites.append(site) }
        }
        let servers = sites.filter { $0.role == .server }
        if servers.count != 1, diagnostics.isEmpty {
            error(node, servers.isEmpty ? "no site has role 'server'" : "\(servers.count) sites have role 'server'",
                  hint: "a federation has exactly one server site")
        }
        if let server = servers.first, server.name != "server", diagnostics.isEmpty {
            error(node, "the server site is named '\(server.name)'",
                  hint: "name it 'server': job.yaml deploy maps address the server site by that name")
        }
        if !sites.contains(where: { $0.role == .client }), diagnostics.isEmpty {
            error(node, "no site has role 'client'", hint: "add at least one `{name: site-1, role: client}`")
        }
        // Server first, then the clients in file order.
        return servers + sites.filter { $0.role == .client }
    }
}
