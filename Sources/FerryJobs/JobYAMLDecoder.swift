import Yams

/// Decodes `job.yaml` into a ``JobDefinition``, reporting every problem to the context.
struct JobYAMLDecoder {
    static let keys = ["name", "description", "min_clients", "deploy", "resources"]

    /// The decoded definition (nil when a required part is unusable) and where each deploy entry is.
    struct Output {
        var definition: JobDefinition?
        /// Position of each app's key in the deploy map.
        var deployMarks: [String: Mark] = [:]
        /// Position of the `deploy` key (or the top of the file).
        var deployMark: Mark?
    }

    let context: YAMLContext

    func decode(_ root: Node) -> Output {
        var output = Output()
        guard let top = FieldReader.of(root, path: "", context: context) else { return output }
        top.checkKeys(Self.keys)
        let name = top.string("name", required: "add `name: my-job` (\(JobNames.pattern))")
        if let name, !JobNames.isValid(name), let node = top.value("name") {
            context.error("invalid job name '\(name)'", at: node.mark,
                          hint: "use 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit (\(JobNames.pattern))")
        }
        let description = top.string("description")
        let minClients = top.int("min_clients", range: 1...10_000, required: "add `min_clients: 1` (the fewest clients that must take part)")
        output.deployMark = top.keyMark("deploy") ?? root.mark
        let deploy = decodeDeploy(top, marks: &output.deployMarks)
        var resources: JobResources?
        if let r = top.nested("resources") {
            r.checkKeys(["max_memory"])
            resources = JobResources(maxMemory: r.size("max_memory", range: 1...(1 << 50)))
        }
        if let name, let minClients, let deploy {
            output.definition = JobDefinition(name: name, description: description, minClients: minClients,
                                              deploy: deploy, resources: resources)
        }
        return output
    }

    private func decodeDeploy(_ top: FieldReader, marks: inout [String: Mark]) -> [DeployEntry]? {
        guard let node = top.required("deploy", hint: "add a deploy map, e.g. `deploy: {server: [server], client: all}`"),
              let map = FieldReader.of(node, path: "deploy", context: context) else { return nil }
        var entries: [DeployEntry] = []
        var valid = true
        for (key, value) in map.mapping {
            guard let app = key.scalar?.string else {
                context.error("deploy keys must be app names, found \(FieldReader.describe(key))", at: key.mark,
                              hint: "write `APP: [site, …]` or `APP: all`")
                valid = false
                continue
            }
            if let mark = key.mark { marks[app] = mark }
            if !JobNames.isValid(app) {
                context.error("invalid app name '\(app)'", at: key.mark,
                              hint: "app names are folder names under apps/ matching \(JobNames.pattern)")
                valid = false
            }
            guard let target = decodeTarget(value, app: app) else { valid = false; continue }
            entries.append(DeployEntry(app: app, target: target))
        }
        if entries.isEmpty && valid {
            context.error("the deploy map is empty", at: node.mark, hint: "deploy a server app and a client app: `{server: [server], client: all}`")
            return nil
        }
        checkServerSite(entries, marks: marks, deployNode: node)
        return valid ? entries : nil
    }

    private func decodeTarget(_ value: Node, app: String) -> DeployTarget? {
        switch value {
        case .scalar(let scalar):
            if scalar.string == "all" { return .all }
            context.error("deploy target of '\(app)' must be a list of sites or `all`, found '\(scalar.string)'", at: value.mark,
                          hint: scalar.string.isEmpty ? "write `\(app): all` or `\(app): [site-1, site-2]`"
                                : "write `\(app): [\(scalar.string)]` for one site, or `\(app): all` for every client site")
            return nil
        case .sequence(let sequence):
            var sites: [String] = []
            var ok = true
            for item in sequence {
                guard let site = item.scalar?.string else {
                    context.error("site names must be plain words, found \(FieldReader.describe(item))", at: item.mark,
                                  hint: "write `\(app): [site-1, site-2]`")
                    ok = false
                    continue
                }
                if site == "all" {
                    context.error("`all` cannot be part of a site list", at: item.mark, hint: "write `\(app): all` without brackets")
                    ok = false
                } else if !JobNames.isValid(site) {
                    context.error("invalid site name '\(site)'", at: item.mark, hint: "site names match \(JobNames.pattern), e.g. site-1")
                    ok = false
                } else if sites.contains(site) {
                    context.error("site '\(site)' is listed twice for '\(app)'", at: item.mark, hint: "remove the duplicate")
                    ok = false
                } else {
                    sites.append(site)
                }
            }
            if sequence.isEmpty {
                context.error("'\(app)' is deployed to no site", at: value.mark,
                              hint: "list at least one site, write `all`, or remove the app from deploy")
                ok = false
            }
            return ok ? .sites(sites) : nil
        default:
            context.error("deploy target of '\(app)' must be a list of sites or `all`, found \(FieldReader.describe(value))",
                          at: value.mark, hint: "write `\(app): [site-1, site-2]` or `\(app): all`")
            return nil
        }
    }

    /// Exactly one app runs on the site `server`.
    private func checkServerSite(_ entries: [DeployEntry], marks: [String: Mark], deployNode: Node) {
        let onServer = entries.filter { if case .sites(let s) = $0.target { s.contains(JobDefinition.serverSite) } else { false } }
        if onServer.isEmpty {
            context.error("no app is deployed to the site 'server'", at: deployNode.mark,
                          hint: "deploy exactly one server app (one with `workflow`) to it, e.g. `server: [server]`")
        }
        for extra in onServer.dropFirst() {
            context.error("app '\(extra.app)' is also deployed to 'server', which already runs '\(onServer[0].app)'",
                          at: marks[extra.app], hint: "the server runs exactly one app; remove 'server' from one of them")
        }
    }
}
