import FerrySupport
import FerryWorkspace
import Foundation

/// A federation whose sites all live on this machine (`ferry poc`): one server and N client workspaces
/// under one folder, a `ferry watch` child process per site, jobs submitted to the server's job store.
public final class LocalFederation {
    /// The folder holding the workspaces.
    public let directory: String
    /// The server workspace.
    public let server: SiteWorkspace
    /// The client workspace folders, in site order.
    public let clients: [String]
    /// Whether ``prepare(directory:clients:poll:)`` provisioned the workspaces (false: reused).
    public let provisioned: Bool
    /// The running watchers, server first.
    public private(set) var watchers: [WatcherProcess] = []
    private var launch: (binary: String, arguments: [String])?

    private init(directory: String, server: SiteWorkspace, clients: [String], provisioned: Bool) {
        self.directory = directory
        self.server = server
        self.clients = clients
        self.provisioned = provisioned
    }

    /// Opens the federation under `directory`, or provisions one (`server`, `site-1` … `site-N`, project
    /// `poc`) when the folder holds no server workspace.
    /// - Throws: ``RuntimeError/federation(_:)`` when the folder holds several federations, or a client
    ///   workspace of the federation is not under it.
    public static func prepare(directory: String, clients: Int, poll: Duration? = nil) throws -> LocalFederation {
        let root = FileSystem.absolute(directory)
        try FileSystem.makeDirectory(root)
        let servers = SiteWorkspace.discoverServers(under: root)
        if servers.count > 1 {
            throw RuntimeError.federation(
                "\(root) holds several server workspaces (\(servers.joined(separator: ", "))); pass the folder of one federation with --workspace")
        }
        if let serverPath = servers.first {
            let server = try SiteWorkspace.open(serverPath)
            var byName: [String: String] = [:]
            for path in SiteWorkspace.discover(under: root) {
                guard let ws = try? SiteWorkspace.open(path), ws.role == .client, ws.project == server.project else { continue }
                byName[ws.name] = path
            }
            let missing = server.clientNames.filter { byName[$0] == nil }
            guard missing.isEmpty else {
                throw RuntimeError.federation(
                    "the workspaces of \(missing.joined(separator: ", ")) (clients of \(server.project)) are not under \(root); ferry poc runs every site of the federation on this machine")
            }
            guard !server.clientNames.isEmpty else {
                throw RuntimeError.federation("the federation in \(root) has no client site")
            }
            return LocalFederation(directory: root, server: server, clients: server.clientNames.map { byName[$0]! },
                                   provisioned: false)
        }
        guard clients >= 1 else { throw RuntimeError.federation("a federation needs at least one client (--clients 1 or more)") }
        let project = ProjectFile.standard(name: "poc", clients: clients, poll: poll, baseDirectory: root)
        let sites = try Provisioner(project: project, outputDirectory: root).run()
        guard let server = sites.first(where: { $0.role == .server }) else {
            throw RuntimeError.federation("provisioning made no server workspace")
        }
        // Every inbox is under this folder: the sites form one share group (broadcast once).
        var config = try SiteWorkspace.open(server.workspace).config
        if config.shareGroup == nil {
            config.shareGroup = root
            try config.write(to: FileSystem.join(server.workspace, "site.yaml"))
        }
        return LocalFederation(directory: root, server: try SiteWorkspace.open(server.workspace),
                               clients: sites.filter { $0.role == .client }.map(\.workspace), provisioned: true)
    }

    /// Starts `binary watch` on every site, the server first.
    /// - Parameters:
    ///   - binary: the `ferry` executable.
    ///   - arguments: extra `watch` arguments (`--poll 200ms`, `--polling-only`, `--max-jobs N`).
    public func start(binary: String, arguments: [String]) throws {
        launch = (binary, arguments + ["--quiet"])
        do {
            for path in [server.directory] + clients {
                watchers.append(try startWatcher(path))
            }
        } catch {
            stop()
            throw error
        }
    }

    private func startWatcher(_ path: String) throws -> WatcherProcess {
        guard let launch else { throw RuntimeError.federation("the watchers were never started") }
        let name = (try? SiteWorkspace.open(path).name) ?? (path as NSString).lastPathComponent
        return try WatcherProcess(binary: launch.binary, workspace: path, site: name, arguments: launch.arguments)
    }

    /// The watcher of `site`.
    public func watcher(_ site: String) -> WatcherProcess? { watchers.first { $0.site == site } }

    /// Starts the watcher of `site` again once it has ended (after a crash, or a kill -9 in a test).
    public func restart(_ site: String) throws {
        guard let index = watchers.firstIndex(where: { $0.site == site }) else {
            throw RuntimeError.federation("no watcher for site '\(site)' in this federation")
        }
        watchers[index].wait(timeout: .seconds(10))
        watchers[index] = try startWatcher(watchers[index].workspace)
    }

    /// A watcher that ended although nobody stopped it, if any.
    public var deadWatcher: WatcherProcess? { watchers.first { !$0.isRunning } }

    /// Whether every site's outbox has delivered what it queued (no `outbox/<id>.json` left): after a job
    /// ends, the clients' logs are still on their way to the server for a moment.
    public var outboxesDrained: Bool {
        ([server.directory] + clients).allSatisfy { site in
            !FileSystem.list(FileSystem.join(site, "outbox")).contains { !$0.hasPrefix(".") && $0.hasSuffix(".json") }
        }
    }

    /// Stops every watcher cleanly (SIGTERM; SIGKILL after `grace`).
    public func stop(grace: Duration = .seconds(10)) {
        for w in watchers { w.send(SIGTERM) }
        for w in watchers where !w.wait(timeout: grace) {
            w.send(SIGKILL)
            w.wait(timeout: .seconds(5))
        }
        watchers = []
    }

    /// Validates, packs, signs and places `jobFolder` in the server's job store.
    public func submit(_ jobFolder: String) throws -> JobRecord {
        try JobStore(workspace: server).submit(jobDirectoryOrArchive: jobFolder)
    }

    /// The run of job `id` as the job store has it now.
    public func run(_ id: String) throws -> JobRun {
        try JobRun(id: id, server: server)
    }

    /// The path of the running executable (for starting the watchers).
    public static var currentExecutable: String? {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        return Bundle.main.executablePath
    }
}
