import FerryArchive
import FerryJobs
import FerrySupport
import FerryWorkspace
import Foundation
import Logging

/// The server side of the watcher: picks up submitted jobs, checks and deploys them, and drives
/// their workflows, up to `maxJobs` at once.
final class ServerRole: SiteRoleHandler {
    private(set) var workspace: SiteWorkspace
    let options: WatcherOptions
    let outbox: Outbox
    let logger: Logger
    let store: ServerStore
    let logs = JobLogs()
    private var active: [String: ServerJob] = [:]
    /// Submitted jobs waiting for space to be unpacked: what they wait on, as recorded in state.json.
    private var startPauses: [String: String] = [:]
    private var retention: RetentionSweep
    /// Sites removed from the federation: refused, and no job waits for them.
    let federation: FederationGate?
    /// The sites' heartbeats, as this server sees them.
    let liveness: LivenessMonitor

    init(workspace: SiteWorkspace, options: WatcherOptions, outbox: Outbox, logger: Logger,
         federation: FederationGate? = nil, wake: @escaping @Sendable () -> Void) throws {
        self.workspace = workspace
        self.federation = federation
        self.options = options
        self.outbox = outbox
        self.logger = logger
        self.store = try ServerStore(workspace: workspace)
        self.retention = RetentionSweep(retention: try workspace.retention())
        self.liveness = LivenessMonitor(workspace: workspace, rules: try LivenessRules(workspace: workspace, override: options.deadAfter),
                                        logger: logger)
    }

    private func jobLogger(_ id: String) throws -> Logger {
        let file = try logs.file(store.paths(id).log(site: workspace.name))
        var l = FileLogHandler.logger(label: "job \(id)", file: file)
        l.logLevel = .info
        return l
    }

    // MARK: SiteRoleHandler

    func workspaceChanged(_ workspace: SiteWorkspace) {
        self.workspace = workspace
        store.workspace = workspace
        liveness.track(sites: [workspace.name] + workspace.clientNames)
    }

    func resume() throws {
        for record in store.records() where record.state.state.isActive {
            try load(record)
        }
    }

    func handle(_ message: IncomingMessage) throws {
        guard let kind = message.kind, let jobID = message.job else {
            logger.warning("ignored a transfer without ferry metadata from \(message.sender)")
            FileSystem.remove(message.path)
            return
        }
        guard workspace.peers[message.site]?.role == .client else {
            logger.warning("ignored a \(kind.rawValue) message from '\(message.site)', which is not a client of this federation")
            FileSystem.remove(message.path)
            return
        }
        switch kind {
        case .result:
            guard let job = active[jobID] else {
                logger.info("discarded a result for job \(jobID) from \(message.site): the job is not running here")
                FileSystem.remove(message.path)
                return
            }
            do {
                try job.accept(message)
                try job.resumeIfPaused(.message)
            } catch where DiskSpace.isFull(error) {
                job.pause(after: error, in: .message)
                throw error  // the received file stays: handled again on the next pass
            }
            do {
                try job.drive()
                try job.resumeIfPaused(.drive)
            } catch where DiskSpace.isFull(error) && !job.isFinished {
                job.pause(after: error, in: .drive)  // tick() drives it again
            }
        case .log:
            let paths = store.paths(jobID)
            guard FileSystem.isDirectory(paths.directory) else {
                FileSystem.remove(message.path)
                return
            }
            try FileSystem.makeDirectory(paths.logsDirectory)
            try FileSystem.move(message.path, to: paths.log(site: message.site))
        case .metrics:
            try acceptLiveMetrics(message, job: jobID)
        case .deploy, .file, .task, .abort:
            logger.warning("ignored a \(kind.rawValue) message from client \(message.site): only the server sends those")
            FileSystem.remove(message.path)
        }
    }

    func sendsFinished(_ records: [SentRecord]) throws {
        for record in records {
            try active[record.job]?.sent(record)
        }
    }

    func tick() throws {
        let now = Date()
        liveness.refresh(now: now)
        for id in active.keys.sorted() {
            guard let job = active[id] else { continue }
            do {
                if job.isFinished {
                    try job.retryEnding(now: now)
                } else {
                    try job.dropRemoved(federation?.removed ?? [])
                    try job.drive(now: now)
                    if !job.isFinished { try job.resumeIfPaused(.drive) }
                }
            } catch where DiskSpace.isFull(error) && !job.isFinished {
                // Nothing half-written stays behind: the step runs again on the next pass.
                job.pause(after: error, in: .drive)
            } catch {
                job.logger.error("\(error)")
                logger.error("job \(id): \(error)")
                if job.isFinished {
                    // The end is decided (and committed in workflow.json unless that write failed): only
                    // its record failed. It is retried; failing the job here would overwrite a completed end.
                    logger.error("job \(id): cannot record its end (\(job.state.ending?.rawValue ?? "finished")) yet; retrying")
                } else {
                    try? job.finish(.failed, reason: "\(error)")
                }
            }
            if job.isFinished && job.endingRecorded {
                active.removeValue(forKey: id)
                logs.close(store.paths(id).log(site: workspace.name))
            }
        }
        removeExpiredJobs(now: now)
        guard active.count < options.maxJobs else { return }
        for record in store.records() where record.state.state == .submitted {
            guard active.count < options.maxJobs else { break }
            start(record)
        }
    }

    func shutdown() {}

    func runningTasks() -> [Heartbeat.Task] {
        active.values.filter { !$0.isFinished }.map(\.currentTask).sorted { $0.job < $1.job }
    }

    // MARK: Jobs

    /// Reloads a dispatched/running job after a restart.
    private func load(_ record: JobRecord) throws {
        let id = record.id
        let path = FileSystem.join(store.jobDirectory(id), "runtime/workflow.json")
        guard let state = try JSONFile.readIfPresent(ServerJobState.self, from: path) else {
            // Crashed between the state change and the plan: check and deploy it again.
            start(record)
            return
        }
        let job = ServerJob(id: id, store: store, outbox: outbox, logger: try jobLogger(id), serverName: workspace.name, state: state)
        job.liveness = liveness
        if job.isFinished {
            // Killed between committing the end in workflow.json and recording it in state.json.
            do {
                try job.recordEnding()
            } catch {
                // Retried by tick() until it succeeds.
                logger.error("job \(id): cannot record its end after a restart yet (\(error)); retrying")
                active[id] = job
                return
            }
            job.logger.info("recorded the end of the job in state.json after a restart")
            logger.info("job \(id): recorded its end after a restart")
            logs.close(store.paths(id).log(site: workspace.name))
            return
        }
        if state.phase == .running, record.state.state == .dispatched {
            // Killed between the deployment's commit in workflow.json and the job store's update.
            try store.update(id) { $0.state = .running }
        }
        active[id] = job
        job.logger.info("resumed after a restart: \(state.phase.rawValue), round \(state.round)")
        logger.info("resumed job \(id) (\(state.plan.name)): \(state.phase.rawValue), round \(state.round)")
    }

    /// Deletes the jobs that finished longer than `retention:` (site.yaml) ago, as `ferry delete` would.
    private func removeExpiredJobs(now: Date) {
        guard let seconds = retention.due(now) else { return }
        for record in store.records() where record.state.state.isFinished && active[record.id] == nil {
            let ended = record.state.finishedAt ?? record.state.updatedAt
            guard now.timeIntervalSince(ended) > seconds else { continue }
            do {
                try store.store.delete(id: record.id)
                logger.info("job \(record.id): removed, finished \(Timestamp.string(ended)), past the retention of \(workspace.config.retention ?? "")")
            } catch {
                logger.warning("job \(record.id): cannot remove it after the retention period: \(error)")
            }
        }
    }

    /// A submitted job that cannot be unpacked for lack of space stays submitted, with `paused` in its
    /// `state.json` saying which folder is full and how much it needs; every pass tries again.
    private func waitForSpace(_ id: String, folder: String, needed: Int64, error: any Error, log: Logger) {
        let text = "waiting for disk space: " + DiskSpaceShortage(folder: folder, needed: needed,
                                                                    available: DiskSpace.available(at: folder) ?? 0).description
        let key = "\(folder)|\(needed)"
        guard startPauses[id] != key else { return }
        do {
            try store.update(id) { $0.paused = text }
            startPauses[id] = key
            log.warning("paused before deployment: \(text) (\(error))")
            logger.warning("job \(id): \(text)")
        } catch {
            logger.warning("job \(id): \(text); cannot record it in state.json yet (\(error))")
        }
    }

    /// Checks a submitted job and starts its deployment, or fails it with the reason.
    private func start(_ record: JobRecord) {
        let id = record.id
        let jobLog: Logger
        do {
            jobLog = try jobLogger(id)
        } catch {
            logger.error("job \(id): \(error)")
            return
        }
        logger.info("picked up job \(id) (\(record.name))")
        do {
            let external = try store.verify(id)
            let runtime = FileSystem.join(store.jobDirectory(id), "runtime")
            let unpacked = FileSystem.join(runtime, "job")
            if !FileSystem.exists(FileSystem.join(runtime, "job.unpacked")) {
                FileSystem.remove(unpacked)
                do {
                    try FileSystem.makeDirectory(runtime)
                    _ = try JobArchive.unpack(archive: store.archivePath(id), into: unpacked)
                    try external?.place(from: store.paths(id), into: unpacked)
                    try FileSystem.write([UInt8](), to: FileSystem.join(runtime, "job.unpacked"))
                } catch where DiskSpace.isFull(error) {
                    FileSystem.remove(unpacked)
                    waitForSpace(id, folder: runtime, needed: FileSystem.size(store.archivePath(id)) + DiskPause.margin, error: error, log: jobLog)
                    return
                }
            }
            let folder: JobFolder
            do {
                folder = try JobFolder.load(directory: unpacked, displayName: record.name)
            } catch {
                throw RuntimeError.federation("the job does not validate:\n\(error)")
            }
            let removed = federation?.removed ?? []
            let plan = try JobPlan(folder: folder, serverName: workspace.name, clientSites: workspace.clientNames.filter { !removed.contains($0) })
            let now = Date()
            let state = ServerJobState(phase: .deploying, plan: plan, startedAt: now,
                                       deployDeadline: now.addingTimeInterval(plan.roundTimeout))
            let job = ServerJob(id: id, store: store, outbox: outbox, logger: jobLog, serverName: workspace.name, state: state)
            job.liveness = liveness
            try job.save()
            startPauses.removeValue(forKey: id)
            try store.update(id) { file in
                file.state = .dispatched
                file.paused = nil
                file.rounds = plan.rounds
                file.startedAt = now
                for site in plan.sites { file.sites[site] = "deploying" }
            }
            try job.sendDeployments()
            active[id] = job
            jobLog.info("deploying \(plan.workflow.rawValue) job '\(plan.name)' to \(plan.sites.joined(separator: ", "))")
        } catch {
            let reason = "\(error)"
            jobLog.error("job refused: \(reason)")
            logger.error("job \(id) failed: \(reason)")
            try? store.update(id) { file in
                file.state = .failed
                file.reason = reason
                file.finishedAt = Date()
            }
        }
    }
}
