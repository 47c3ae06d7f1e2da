import FerrySupport
import FerryWorkspace
import Foundation
import Logging
import Synchronization

/// What a site does with messages and with its periodic pass; the server and client roles.
protocol SiteRoleHandler: AnyObject {
    /// Called once before the first pass: resume what a previous run left.
    func resume() throws
    /// Handles one message taken out of the inbox.
    func handle(_ message: IncomingMessage) throws
    /// One pass of periodic work: pick up jobs, start tasks, check deadlines.
    func tick() throws
    /// Sends finished since the last pass.
    func sendsFinished(_ records: [SentRecord]) throws
    /// The watcher is stopping: stop running work (it is resumed on the next start).
    func shutdown()
    /// What the site works on now, for its heartbeat.
    func runningTasks() -> [Heartbeat.Task]
    /// Tasks in progress: executors running here (`local`), and any task followed at all, Slurm jobs included.
    var tasksInProgress: (local: Bool, any: Bool) { get }
    /// The federation changed the workspace's peers or keys (reloaded without a restart).
    func workspaceChanged(_ workspace: SiteWorkspace)
    /// This site was removed from the federation: stop all its work, for `reason`.
    func siteRevoked(_ reason: String)
}

extension SiteRoleHandler {
    var tasksInProgress: (local: Bool, any: Bool) { (false, false) }
    func workspaceChanged(_ workspace: SiteWorkspace) {}
    func siteRevoked(_ reason: String) {}
}

/// The per-site daemon behind `ferry watch`: receives messages from the site's inbox, and drives the
/// server's jobs or the client's tasks. All progress lives in files, so a watcher killed at any moment
/// resumes where it was when started again (docs/runtime.md).
public final class Watcher: Sendable {
    /// The site workspace.
    public let workspace: SiteWorkspace
    /// Options it runs with.
    public let options: WatcherOptions
    let logger: Logger
    let wakeUp: ChangeWaiter
    private let stopping = Atomic<Bool>(false)
    private let context: Mutex<Context?>
    /// Received files kept for lack of space (each reported once).
    private let heldForSpace = Mutex<Set<String>>([])
    /// Writes this site's heartbeat into the server's inbox (nil: a client without a server peer).
    private let heartbeat: HeartbeatWriter?

    // The role is used only from the watcher's loop; the mutex just publishes it once prepared.
    private struct Context: @unchecked Sendable {
        let role: any SiteRoleHandler
        let outbox: Outbox
        let transport: TransferTransport
        let federation: FederationGate
    }

    /// Opens the workspace at `path` and prepares the watcher (nothing runs until ``run()``).
    public init(workspace path: String, options: WatcherOptions = WatcherOptions()) throws {
        let ws: SiteWorkspace
        do {
            ws = try SiteWorkspace.open(path)
        } catch {
            throw error
        }
        self.workspace = ws
        self.options = options
        try FileSystem.makeDirectory(ws.logsDirectory)
        try FileSystem.makeDirectory(ws.jobsDirectory)
        try FileSystem.makeDirectory(ws.inboxDirectory)
        let logFile = try LogFile(path: FileSystem.join(ws.logsDirectory, "watcher.log"))
        self.logger = FileLogHandler.logger(label: "watch \(ws.name)", file: logFile, echo: options.echoLog)
        self.wakeUp = ChangeWaiter(notifications: options.useInotify, wakeable: true)
        self.context = Mutex(nil)
        let destination = ws.role == .server ? ws.inboxDirectory : ws.server?.site.inbox
        let log = logger
        self.heartbeat = destination.map {
            HeartbeatWriter(identity: .init(site: ws.name, role: ws.role.rawValue, ownInbox: ws.inboxDirectory,
                                            workspace: ws.directory, destinationInbox: $0),
                            pollInterval: options.pollInterval, logger: log)
        }
    }

    /// Asks a running ``run()`` to stop after its current step (safe from any thread or signal handler queue).
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakeUp.wake()
    }

    /// Whether ``stop()`` was called.
    public var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    /// Runs passes until ``stop()``: blocks the calling thread.
    public func run() throws {
        let pidFile = FileSystem.join(workspace.directory, "watcher.pid")
        try claim(pidFile)
        defer { FileSystem.remove(pidFile) }
        let ctx = try prepare()
        heartbeat?.start()
        defer { heartbeat?.stop() }
        logger.info("watching \(workspace.directory) as \(workspace.role.rawValue) '\(workspace.name)' (poll \(DurationText.format(options.pollInterval)), \(wakeUp.usesNotifications ? "inotify + polling" : "polling only"), max \(options.maxJobs) jobs)")
        var stopRule = StopRule(options: options)
        while !isStopping {
            let received = pass(ctx)
            if isStopping { break }
            let tasks = ctx.role.tasksInProgress
            let activity = StopRule.Activity(received: received, localTasks: tasks.local, followedTasks: tasks.any,
                                             sending: ctx.outbox.runningCount > 0)
            if let reason = stopRule.reasonToStop(after: activity) {
                logger.info("\(reason): stopping")
                break
            }
            wakeUp.wait(timeout: stopRule.nextWait(poll: options.pollInterval))
        }
        logger.info("stopping: finishing the current step")
        ctx.role.shutdown()
        logger.info("stopped")
    }

    /// Runs one pass (tests and tools): receive, handle, tick.
    public func runOnce() throws {
        let ctx = try prepare()
        pass(ctx)
        heartbeat?.write()
    }

    private func prepare() throws -> Context {
        if let existing = context.withLock({ $0 }) { return existing }
        let ws = workspace
        let transport = try TransferTransport(workspace: ws, options: options, logger: logger)
        // Looked up at each send: a site added to the federation since the start is reached too.
        let outbox = try Outbox(directory: FileSystem.join(ws.directory, "outbox"), transport: transport,
                                inboxes: { transport.workspace.inbox(ofPeer: $0) }, logger: logger,
                                onChange: { [wakeUp] in wakeUp.wake() })
        let role: any SiteRoleHandler
        let federation = FederationGate(workspace: ws, logger: logger)
        federation.refresh()
        switch ws.role {
        case .server:
            role = try ServerRole(workspace: ws, options: options, outbox: outbox, logger: logger, federation: federation,
                                  wake: { [wakeUp] in wakeUp.wake() })
        case .client:
            role = try ClientRole(workspace: ws, options: options, outbox: outbox, logger: logger, wake: { [wakeUp] in wakeUp.wake() })
        }
        try role.resume()
        outbox.startPending()
        wakeUp.watch(ws.inboxDirectory)
        if ws.role == .server { wakeUp.watch(ws.jobsDirectory) }
        let ctx = Context(role: role, outbox: outbox, transport: transport, federation: federation)
        context.withLock { $0 = ctx }
        return ctx
    }

    /// One pass; returns how many messages it received.
    @discardableResult
    private func pass(_ ctx: Context) -> Int {
        if ctx.federation.refresh() { reload(ctx) }
        if ctx.federation.isRevoked, let reason = ctx.federation.refusal { ctx.role.siteRevoked(reason) }
        var received = 0
        do {
            let messages = try ctx.transport.receive()
            received = messages.count
            for message in messages {
                if let refusal = SenderBinding.refusal(of: message, trusting: ctx.transport.workspace) {
                    logger.warning("refused \(message.kind?.rawValue ?? "unknown") message \(message.messageID) from \(message.site): \(refusal)")
                    FileSystem.remove(message.path)
                    continue
                }
                if let refusal = ctx.federation.refusal(of: message) {
                    logger.warning("refused \(message.kind?.rawValue ?? "unknown") message \(message.messageID) from \(message.site): \(refusal)")
                    FileSystem.remove(message.path)
                    continue
                }
                do {
                    try ctx.role.handle(message)
                } catch where DiskSpace.isFull(error) {
                    // Kept in received/: the next pass recovers it and tries again (docs/reliability.md).
                    guard heldForSpace.withLock({ $0.insert(message.path).inserted }) else { continue }
                    logger.warning("cannot handle \(message.kind?.rawValue ?? "unknown") message \(message.messageID) from \(message.site) yet: \(error); retrying once there is space")
                } catch {
                    logger.error("cannot handle \(message.kind?.rawValue ?? "unknown") message \(message.messageID) from \(message.site): \(error)")
                    FileSystem.remove(message.path)
                }
            }
        } catch {
            logger.error("inbox: \(error)")
        }
        do {
            try ctx.role.sendsFinished(ctx.outbox.takeFinished())
        } catch {
            logger.error("\(error)")
        }
        do {
            try ctx.role.tick()
        } catch {
            logger.error("\(error)")
        }
        heartbeat?.update(tasks: ctx.role.runningTasks())
        if wakeUp.usesNotifications {
            // New transfer folders: watch them too, so chunk arrivals wake the loop.
            for name in FileSystem.list(workspace.inboxDirectory) where !name.hasPrefix(".") {
                let path = FileSystem.join(workspace.inboxDirectory, name)
                if FileSystem.isDirectory(path) { wakeUp.watch(path) }
            }
            if workspace.role == .server {
                for name in FileSystem.list(workspace.jobsDirectory) where !name.hasPrefix(".") {
                    wakeUp.watch(FileSystem.join(workspace.jobsDirectory, name))
                }
            }
        }
        return received
    }

    /// A new federation serial: reopens the workspace and, when its peers or keys changed (`ferry federation
    /// add`, a rotated key), trusts, reaches and waits for exactly those from now on, without a restart.
    private func reload(_ ctx: Context) {
        let old = ctx.transport.workspace
        let new: SiteWorkspace
        do { new = try SiteWorkspace.open(old.directory) } catch {
            logger.error("federation changed but the workspace cannot be reopened; the previous keys and peers stay in force: \(error)")
            return
        }
        let oldKeys = old.trustedKeys.mapValues(SiteKeys.encode), newKeys = new.trustedKeys.mapValues(SiteKeys.encode)
        guard oldKeys != newKeys || old.config.peers != new.config.peers || old.keys.publicKeyText != new.keys.publicKeyText else { return }
        ctx.transport.reload(new)
        ctx.federation.workspace = new
        ctx.role.workspaceChanged(new)
        let added = newKeys.keys.filter { oldKeys[$0] == nil }.sorted()
        let rekeyed = newKeys.keys.filter { oldKeys[$0] != nil && oldKeys[$0] != newKeys[$0] }.sorted()
        let dropped = oldKeys.keys.filter { newKeys[$0] == nil }.sorted()
        var changes: [String] = []
        if !added.isEmpty { changes.append("trusting \(added.joined(separator: ", "))") }
        if !rekeyed.isEmpty { changes.append("new keys of \(rekeyed.joined(separator: ", "))") }
        if !dropped.isEmpty { changes.append("no longer trusting \(dropped.joined(separator: ", "))") }
        if old.keys.publicKeyText != new.keys.publicKeyText { changes.append("signing with this site's new key") }
        logger.info("reloaded keys and peers from \(new.siteFile)\(changes.isEmpty ? "" : ": " + changes.joined(separator: "; "))")
    }

    /// Writes `watcher.pid`, refusing when another live watcher holds it.
    private func claim(_ pidFile: String) throws {
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
           let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
           pid != getpid(), kill(pid, 0) == 0 || errno == EPERM {
            let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "ferry"
            if cmdline.contains("ferry") {
                throw RuntimeError.alreadyRunning(path: workspace.directory, pid: pid)
            }
        }
        try AtomicFile.write(string: "\(getpid())\n", to: pidFile)
    }
}
