import FerrySupport
import FerryTransfer
import Foundation
import Yams

/// Reads a job folder and applies the cross-file rules (deploy map against app folders).
struct JobFolderLoader {
    let directory: String
    let limits: YAMLLimits
    let displayName: String
    var requireInitialModel = true

    private func display(_ relative: String) -> String {
        displayName.hasSuffix("/") ? displayName + relative : FileSystem.join(displayName, relative)
    }

    private func path(_ relative: String) -> String {
        (directory as NSString).appendingPathComponent(relative)
    }

    func load() throws(JobValidationFailure) -> JobFolder {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw JobValidationFailure(diagnostics: [Diagnostic(
                file: displayName, line: 1, column: 1, message: "not a job folder (no such directory)",
                hint: "give the folder that holds job.yaml, e.g. jobs/hello-fedavg")])
        }
        let jobContext = YAMLContext(file: display("job.yaml"))
        var job = JobYAMLDecoder.Output()
        var diagnostics: [Diagnostic] = []
        switch YAMLFile.load(path: path("job.yaml"), display: jobContext.file, limits: limits) {
        case .success(let root): job = JobYAMLDecoder(context: jobContext).decode(root)
        case .failure(let failure): diagnostics += failure.diagnostics
        }

        var stray: [Diagnostic] = []
        let folders = appFolders(stray: &stray)
        var apps: [String: AppConfig] = [:]
        for app in folders {
            let appContext = YAMLContext(file: display("apps/\(app)/app.yaml"))
            switch YAMLFile.load(path: path("apps/\(app)/app.yaml"), display: appContext.file, limits: limits) {
            case .success(let root):
                var decoder = AppYAMLDecoder(context: appContext, jobDirectory: directory,
                                             appDirectory: path("apps/\(app)"), jobMinClients: job.definition?.minClients)
                decoder.requireInitialModel = requireInitialModel
                if let config = decoder.decode(root) { apps[app] = config }
                diagnostics += appContext.diagnostics
            case .failure(let failure):
                diagnostics += failure.diagnostics
            }
        }

        var serverApp: String?
        if let definition = job.definition {
            serverApp = checkDeploy(definition, folders: folders, apps: apps, output: job, context: jobContext)
        }
        diagnostics += filterDiagnostics(apps)
        diagnostics = Self.inFileOrder(jobContext.diagnostics + stray + diagnostics)
        guard diagnostics.isEmpty, let definition = job.definition, let serverApp else {
            throw JobValidationFailure(diagnostics: diagnostics.isEmpty ? [Diagnostic(
                file: display("job.yaml"), line: 1, column: 1, message: "the job is incomplete",
                hint: "see docs/job-format.md")] : diagnostics)
        }
        return JobFolder(directory: directory, definition: definition, apps: apps, serverAppName: serverApp)
    }

    /// Files in order of first mention, each file's diagnostics by line and column.
    static func inFileOrder(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        var rank: [String: Int] = [:]
        for d in diagnostics where rank[d.file] == nil { rank[d.file] = rank.count }
        return diagnostics.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            if x.file != y.file { return rank[x.file]! < rank[y.file]! }
            if x.line != y.line { return x.line < y.line }
            if x.column != y.column { return x.column < y.column }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// Names of the folders under `apps/`, sorted; non-folders there are reported.
    private func appFolders(stray: inout [Diagnostic]) -> [String] {
        let appsPath = path("apps")
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: appsPath) else { return [] }
        var folders: [String] = []
        for entry in entries.sorted() where !entry.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: (appsPath as NSString).appendingPathComponent(entry),
                                                        isDirectory: &isDirectory)
            if exists, isDirectory.boolValue {
                folders.append(entry)
            } else {
                stray.append(Diagnostic(file: display("apps/\(entry)"), line: 1, column: 1, message: "not a folder",
                                        hint: "apps/ holds one folder per app (apps/<app>/app.yaml); move or remove apps/\(entry)"))
            }
        }
        return folders
    }

    /// Applies the deploy rules; returns the server app's name when they hold.
    /// Privacy filters a client app asks for that the server app cannot serve: dp-gaussian and
    /// percentile measure the update from the global model (round 1 needs `initial_model`); the server
    /// fills excluded tensors from the global model, which cyclic does not keep; scaffold's results carry a
    /// control variate change and cross-site-eval's local models are not averaged.
    private func filterDiagnostics(_ apps: [String: AppConfig]) -> [Diagnostic] {
        guard let server = apps.values.lazy.compactMap({ app -> ServerAppConfig? in
            if case .server(let config) = app { return config }
            return nil
        }).first else { return [] }
        var found: [Diagnostic] = []
        for (name, app) in apps.sorted(by: { $0.key < $1.key }) {
            guard case .client(let config) = app else { continue }
            let line = config.filters.line ?? 1
            if let numeric = config.filters.privacy.first(where: \.needsReference), server.initialModel == nil {
                found.append(Diagnostic(file: display("apps/\(name)/app.yaml"), line: line, column: 1,
                                        message: "the filter \(numeric.name) measures each update from the global model, and the server app has no `initial_model` for round 1",
                                        hint: "add `initial_model: models/initial.safetensors` to the server app"))
            }
            if server.workflow == .cyclic, config.filters.privacy.contains(where: { $0.name == "exclude" }) {
                found.append(Diagnostic(file: display("apps/\(name)/app.yaml"), line: line, column: 1,
                                        message: "the filter exclude leaves tensors out of results, which `workflow: cyclic` would pass on to the next site incomplete",
                                        hint: "use exclude with an aggregating workflow (fedavg, fedopt), or remove it"))
            }
            if server.workflow == .scaffold || server.workflow == .crossSiteEval, !config.filters.privacy.isEmpty {
                found.append(Diagnostic(file: display("apps/\(name)/app.yaml"), line: line, column: 1,
                                        message: "privacy filters apply to model updates that are averaged; `workflow: \(server.workflow.rawValue)` sends \(server.workflow == .scaffold ? "a control variate change with each model, which they would treat as part of the update" : "local models to be evaluated, not averaged")",
                                        hint: "use the filters with fedavg, fedopt or fedprox, or remove them"))
            }
        }
        return found
    }

    private func checkDeploy(_ definition: JobDefinition, folders: [String], apps: [String: AppConfig],
                             output: JobYAMLDecoder.Output, context: YAMLContext) -> String? {
        var server: String?
        var claimed: [String: String] = [:]   // site → client app naming it explicitly
        var allApp: String?
        var undecoded = false   // an app whose own file has errors: its kind is unknown
        for entry in definition.deploy {
            let mark = output.deployMarks[entry.app]
            guard folders.contains(entry.app) else {
                context.error("app '\(entry.app)' has no folder apps/\(entry.app)/", at: mark,
                              hint: "create apps/\(entry.app)/app.yaml, or remove '\(entry.app)' from deploy")
                continue
            }
            guard let config = apps[entry.app] else {   // its own file already has errors
                undecoded = true
                continue
            }
            switch (config, entry.target) {
            case (.server, .sites(let sites)) where sites == [JobDefinition.serverSite]:
                server = entry.app
            case (.server, _):
                context.error("server app '\(entry.app)' must be deployed to exactly [server], found \(entry.target)", at: mark,
                              hint: "write `\(entry.app): [server]`; clients run apps with an `executor`")
            case (.client, .sites(let sites)):
                if sites.contains(JobDefinition.serverSite) {
                    context.error("client app '\(entry.app)' is deployed to the site 'server'", at: mark,
                                  hint: "the server site runs the app with `workflow`; deploy '\(entry.app)' to client sites or `all`")
                }
                for site in sites where site != JobDefinition.serverSite {
                    if let other = claimed[site] {
                        context.error("site '\(site)' gets two client apps, '\(other)' and '\(entry.app)'", at: mark,
                                      hint: "deploy one client app per site")
                    }
                    claimed[site] = entry.app
                }
            case (.client, .all):
                if let other = allApp {
                    context.error("client apps '\(other)' and '\(entry.app)' are both deployed to `all`", at: mark,
                                  hint: "deploy one of them to `all` and the other to named sites")
                }
                allApp = entry.app
            }
        }
        let deployed = Set(definition.deploy.map(\.app))
        for folder in folders where !deployed.contains(folder) {
            context.error("app folder apps/\(folder)/ is not deployed to any site", at: output.deployMark,
                          hint: "add `\(folder): [site-1]` (or `all`) under deploy, or remove the folder")
        }
        if server == nil, !undecoded, !definition.deploy.isEmpty, context.diagnostics.isEmpty {
            context.error("no server app is deployed to [server]", at: output.deployMark,
                          hint: "deploy the app with `workflow` as `server: [server]`")
        }
        return server
    }
}
