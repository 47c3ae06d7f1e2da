import Foundation
import Yams

/// A validated job folder: `job.yaml` plus one `apps/<app>/app.yaml` per deployed app.
///
/// ```swift
/// let job = try JobFolder.load(directory: "jobs/hello-fedavg")
/// print(job.definition.name, job.serverApp.rounds)
/// ```
public struct JobFolder: Sendable {
    /// The folder as given to ``load(directory:limits:displayName:)``.
    public let directory: String
    /// The contents of `job.yaml`.
    public let definition: JobDefinition
    /// App name → its configuration (every folder under `apps/`).
    public let apps: [String: AppConfig]
    /// The app deployed to the site `server`.
    public let serverAppName: String

    /// Loads and validates the job folder at `directory`.
    ///
    /// Every YAML file is read under `limits`; all problems of all files are collected and thrown
    /// together. `displayName` replaces `directory` in diagnostics (e.g. an archive's name when the job
    /// was unpacked to a temporary folder).
    /// - Parameter requireInitialModel: with `false` a missing `initial_model` file is accepted (a
    ///   client's copy of a job, whose initial model stays with the server).
    public static func load(directory: String, limits: YAMLLimits = .standard,
                            displayName: String? = nil, requireInitialModel: Bool = true) throws(JobValidationFailure) -> JobFolder {
        try JobFolderLoader(directory: directory, limits: limits, displayName: displayName ?? directory,
                            requireInitialModel: requireInitialModel).load()
    }

    /// Where `app` is deployed, or nil when it is not in the deploy map.
    public func sites(forApp app: String) -> DeployTarget? {
        definition.deploy.first(where: { $0.app == app })?.target
    }

    /// The server app's configuration.
    public var serverApp: ServerAppConfig {
        guard case .server(let config) = apps[serverAppName] else {
            preconditionFailure("JobFolder.load guarantees that '\(serverAppName)' is a server app")
        }
        return config
    }

    /// Every client app by name.
    public var clientApps: [String: ClientAppConfig] {
        apps.compactMapValues { if case .client(let config) = $0 { config } else { nil } }
    }

    /// The client app that runs on `site`, given the federation's client sites (used to expand `all`).
    /// An app that names the site explicitly wins over one deployed to `all`.
    public func clientApp(forSite site: String, clientSites: [String]) -> (name: String, config: ClientAppConfig)? {
        let clients = clientApps
        for entry in definition.deploy {
            if case .sites(let names) = entry.target, names.contains(site), let config = clients[entry.app] {
                return (entry.app, config)
            }
        }
        guard clientSites.contains(site) else { return nil }
        for entry in definition.deploy where entry.target == .all {
            if let config = clients[entry.app] { return (entry.app, config) }
        }
        return nil
    }

    /// The folder of `app` (`DIR/apps/<app>`).
    public func appDirectory(_ app: String) -> String {
        (directory as NSString).appendingPathComponent("apps/\(app)")
    }

    /// The server app's initial model as a path under ``directory``, if it has one.
    public var initialModelPath: String? {
        serverApp.initialModel.map { (directory as NSString).appendingPathComponent($0) }
    }

    /// The explicit (non-`all`) client site names the deploy map mentions, sorted.
    public var namedClientSites: [String] {
        var names = Set<String>()
        for entry in definition.deploy {
            if case .sites(let sites) = entry.target { names.formUnion(sites) }
        }
        names.remove(JobDefinition.serverSite)
        return names.sorted()
    }

    init(directory: String, definition: JobDefinition, apps: [String: AppConfig], serverAppName: String) {
        self.directory = directory
        self.definition = definition
        self.apps = apps
        self.serverAppName = serverAppName
    }
}
