import FerryExecutor
import FerryArchive
import FerryJobs
import FerrySupport
import FerryTransfer
import FerryWorkspace
import Foundation
import Logging
import Synchronization

/// The client side of the watcher: verifies and unpacks deployments, runs tasks with the job's
/// executor (one task per job at a time, at most `maxJobs` at once), and returns results.
///
/// Restart rule: a task is recorded as started (`started.json`) before its executor runs and as done
/// (`outcome.json`) after; its result is queued in the outbox only after that. A task found started
/// but not done after a restart therefore never had a result sent, and is run again from the same
/// input, once the previous attempt's executor (which outlives a killed watcher) has been killed; a done
/// task is never run again (its queued result is resent if needed).
final class ClientRole: SiteRoleHandler {
    /// Replaced when the federation changes the peers or keys (``workspaceChanged(_:)``).
    var workspace: SiteWorkspace
    let options: WatcherOptions
    let outbox: Outbox
    let logger: Logger
    let wake: @Sendable () -> Void
    let logs = JobLogs()
    private var plans: [String: (app: String, directory: String, plan: ClientPlan)] = [:]
    /// What was shipped of the running tasks' live metrics (ClientRole+LiveMetrics.swift).
    let liveMetrics = LiveMetricsShipper()
    /// Tasks started and not yet collected, by `job/task`.
    var running: [String: (job: String, launcher: any TaskLauncher)] = [:]
    /// The executor process of each job with `executor.persistent: true` (ClientRole+Persistent.swift).
    var persistentExecutors: [String: PersistentExecutor] = [:]
    /// GPUs (indices of site.yaml's `resources.gpus`) held by running local tasks, by `job/task`.
    var gpusInUse: [String: [Int]] = [:]
    /// Tasks waiting for GPUs (reported once).
    var waitingForGPUs: Set<String> = []
    /// Tasks whose previous executor survived SIGKILL (reported once; retried every pass).
    private var blockedTasks: Set<String> = []
    /// Tasks waiting for disk space before they start (what they wait on, reported once).
    private var waitingForSpace: [String: String] = [:]
    /// Outcomes of executors that ended while `outcome.json` could not be written (a full disk): the
    /// task does not run again; the outcome is written on a later pass.
    private var unrecorded: [String: TaskOutcome] = [:]
    private var retention: RetentionSweep

    init(workspace: SiteWorkspace, options: WatcherOptions, outbox: Outbox, logger: Logger,
         wake: @escaping @Sendable () -> Void) throws {
        self.workspace = workspace
        self.options = options
        self.outbox = outbox
        self.logger = logger
        self.wake = wake
        self.retention = RetentionSweep(retention: try workspace.retention())
        reportPolicy()
    }

    // MARK: Paths

    func jobDirectory(_ id: String) -> String { FileSystem.join(workspace.jobsDirectory, id) }
    func taskDirectory(_ id: String, _ task: String) -> String { FileSystem.join(jobDirectory(id), "tasks", task) }
    func logPath(_ id: String) -> String { FileSystem.join(jobDirectory(id), "logs/\(workspace.name).log") }
    var serverName: String { workspace.server?.name ?? "server" }

    private func jobLogger(_ id: String) -> Logger? {
        guard let file = try? logs.file(logPath(id)) else { return nil }
        return FileLogHandler.logger(label: "\(workspace.name) job \(id)", file: file)
    }

    func log(_ id: String, _ text: String, error: Bool = false) {
        if error { logger.error("job \(id): \(text)") } else { logger.info("job \(id): \(text)") }
        if error { jobLogger(id)?.error("\(text)") } else { jobLogger(id)?.info("\(text)") }
    }

    // MARK: SiteRoleHandler

    /// Kills the executors a killed predecessor left running, for every task that was started but has no
    /// outcome (also of jobs aborted or refused meanwhile, which never run again).
    func resume() throws {
        for job in FileSystem.list(workspace.jobsDirectory) where !job.hasPrefix(".") {
            for task in FileSystem.list(FileSystem.join(jobDirectory(job), "tasks")) {
                let tdir = taskDirectory(job, task)
                guard !FileSystem.exists(FileSystem.join(tdir, "outcome.json")),
                      let previous = try? JSONFile.readIfPresent(TaskStart.self, from: FileSystem.join(tdir, "started.json")) else { continue }
                _ = stopLeftovers(job: job, task: task, attempt: previous.attempt)
            }
            _ = stopPersistentLeftovers(job: job)
        }
    }

    func handle(_ message: IncomingMessage) throws {
        guard let kind = message.kind, let job = message.job, JobID.isValid(job) || isSafeName(job) else {
            logger.warning("ignored a transfer without valid ferry metadata from \(message.sender)")
            FileSystem.remove(message.path)
            return
        }
        guard message.site == serverName else {
            logger.warning("refused a \(kind.rawValue) message from '\(message.site)': only the server '\(serverName)' may send to this site")
            FileSystem.remove(message.path)
            return
        }
        switch kind {
        case .deploy: try deploy(message, job: job)
        case .file: try receiveFile(message, job: job)
        case .task: try receiveTask(message, job: job)
        case .abort: abort(job, reason: message.metadata[MessageKey.reason] ?? "aborted by the server")
            FileSystem.remove(message.path)
        case .result, .log, .metrics:
            logger.warning("ignored a \(kind.rawValue) message from the server")
            FileSystem.remove(message.path)
        }
    }

    func sendsFinished(_ records: [SentRecord]) throws {
        for record in records {
            for note in record.notes ?? [] { log(record.job, "\(record.kind.rawValue) \(record.id): \(note)", error: true) }
            if let error = record.error, !error.hasPrefix("cancelled") {
                log(record.job, "sending \(record.kind.rawValue) \(record.id) failed: \(error)", error: true)
                if record.kind == .result { reportUnsent(record, error: error) }
            }
            if record.kind == .metrics { outbox.forget(record.id) }  // superseded by the next snapshot
            let prefix = "\(record.job).result.", suffix = ".\(workspace.name)"
            if record.kind == .result, record.error == nil, record.id.hasPrefix(prefix), record.id.hasSuffix(suffix) {
                let task = String(record.id.dropFirst(prefix.count).dropLast(suffix.count))
                if task != "deploy" { release(job: record.job, task: task) }
            }
        }
    }

    func tick() throws {
        collectCompletions()
        takeDecisions()
        settleFileDeployments()
        removeExpiredJobs(now: Date())
        for (key, record) in unrecorded.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            recordOutcome(record, job: parts[0], task: parts[1])
        }
        for job in FileSystem.list(workspace.jobsDirectory) where !job.hasPrefix(".") {
            let dir = jobDirectory(job)
            guard FileSystem.exists(FileSystem.join(dir, "deploy.json")), !FileSystem.exists(FileSystem.join(dir, "aborted.json")) else { continue }
            for task in FileSystem.list(FileSystem.join(dir, "tasks")) {
                let tdir = taskDirectory(job, task)
                guard FileSystem.exists(FileSystem.join(tdir, "task.json")) else { continue }
                if FileSystem.exists(FileSystem.join(tdir, "outcome.json")) {
                    do {
                        try queueResult(job: job, task: task)  // no-op when already queued
                    } catch where DiskSpace.isFull(error) {
                        waitForSpace(job: job, task: task, reason: "\(error)")  // queued on a later pass
                    }
                    continue
                }
                let key = FileSystem.join(job, task)
                guard running[key] == nil, unrecorded[key] == nil, !running.values.contains(where: { $0.job == job }),
                      running.values.filter({ $0.launcher.isLocal }).count < options.maxJobs || isSlurmJob(job) else { continue }
                do {
                    try start(job: job, task: task)
                } catch where DiskSpace.isFull(error) {
                    waitForSpace(job: job, task: task, reason: "\(error)")
                }
            }
        }
        shipLiveMetrics(running: Array(running.keys))
        // A Slurm job re-attached to may have ended while no watcher ran: its outcome is collected in this
        // same pass (`ferry watch --once` stops after a pass that leaves nothing to do here).
        if running.values.contains(where: { !$0.launcher.isLocal }) { collectCompletions() }
    }

    func shutdown() {
        for (key, run) in running {
            if run.launcher.isLocal {
                logger.info("stopping the executor of \(key); the task runs again when the watcher restarts")
            } else {
                logger.info("leaving the Slurm job of \(key) to run; the watcher re-attaches to it when it restarts")
            }
            run.launcher.detach()
        }
        for (_, run) in running { run.launcher.waitUntilStopped() }
        stopPersistentExecutors()
        running.removeAll()
        gpusInUse.removeAll()
    }

    func runningTasks() -> [Heartbeat.Task] {
        running.keys.sorted().compactMap { key in
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            let record = try? JSONFile.readIfPresent(TaskRecord.self, from: FileSystem.join(taskDirectory(parts[0], parts[1]), "task.json"))
            return Heartbeat.Task(job: parts[0], round: record?.round ?? 0, task: parts[1],
                                  executorCrashes: persistentExecutors[parts[0]]?.record.crashes)
        }
    }

    // MARK: Disk footprint

    /// Once a task's result has reached the server: removes its input, its scratch folder and (unless
    /// the client app says `keep: outputs`) its output. After the job's last round the unpacked job
    /// goes too: a client keeps no model file of a finished job (docs/workspaces.md).
    private func release(job: String, task: String) {
        let tdir = taskDirectory(job, task)
        guard let record = try? JSONFile.readIfPresent(TaskRecord.self, from: FileSystem.join(tdir, "task.json")) else { return }
        let keepOutputs = (try? plan(for: job).plan.keepOutputs) ?? false
        FileSystem.remove(FileSystem.join(tdir, "input.safetensors"))
        FileSystem.remove(FileSystem.join(tdir, "filtered.safetensors"))
        FileSystem.remove(FileSystem.join(tdir, "work"))
        releaseControlVariates(tdir)
        if !keepOutputs { FileSystem.remove(FileSystem.join(tdir, "output.safetensors")) }
        if record.isLast {
            stopPersistentExecutor(job)
            plans.removeValue(forKey: job)
            FileSystem.remove(FileSystem.join(jobDirectory(job), "job"))
            log(job, "the job's last task is done: removed the unpacked job\(keepOutputs ? "" : " and the task files")")
        }
    }

    /// When job `id` ended on this site: when it was aborted or refused, or when the result of its
    /// last round's task reached the server; nil while it is not over here.
    func endedAt(_ id: String) -> Date? {
        let dir = jobDirectory(id)
        for marker in ["aborted.json", "refused.json"] {
            if let info = FileSystem.info(FileSystem.join(dir, marker)) { return Date(timeIntervalSince1970: info.modified) }
        }
        for task in FileSystem.list(FileSystem.join(dir, "tasks")) {
            guard let record = try? JSONFile.readIfPresent(TaskRecord.self, from: FileSystem.join(taskDirectory(id, task), "task.json")),
                  record.isLast,
                  let sent = outbox.sentRecord("\(id).result.\(task).\(workspace.name)"), sent.error == nil else { continue }
            return sent.finishedAt
        }
        return nil
    }

    /// Removes the folders of jobs that ended here longer than `retention:` (site.yaml) ago.
    private func removeExpiredJobs(now: Date) {
        guard let seconds = retention.due(now) else { return }
        for id in FileSystem.list(workspace.jobsDirectory) where !id.hasPrefix(".") {
            guard !running.values.contains(where: { $0.job == id }), let ended = endedAt(id),
                  now.timeIntervalSince(ended) > seconds else { continue }
            plans.removeValue(forKey: id)
            stopPersistentExecutor(id)
            FileSystem.remove(jobDirectory(id))
            logger.info("job \(id): removed its files, ended \(Timestamp.string(ended)), past the retention of \(workspace.config.retention ?? "")")
        }
    }

    // MARK: Deployment

    private func deploy(_ message: IncomingMessage, job: String) throws {
        let dir = jobDirectory(job)
        var keepMessage = false  // a full disk: the deployment is handled again on a later pass
        defer { if !keepMessage { FileSystem.remove(message.path) } }
        if FileSystem.exists(FileSystem.join(dir, PendingApproval.fileName)), !FileSystem.exists(FileSystem.join(dir, "deploy.json")),
           !FileSystem.exists(FileSystem.join(dir, "refused.json")) {
            logger.info("job \(job): duplicate deployment ignored (it waits for approval)")
            try notifyPending(job: job)
            return
        }
        if FileSystem.exists(FileSystem.join(dir, "deploy.json")) || FileSystem.exists(FileSystem.join(dir, "refused.json")) {
            logger.info("job \(job): duplicate deployment ignored")
            try answerDeploymentAgain(job: job)
            return
        }
        let app = message.metadata[MessageKey.app] ?? ""
        do {
            guard let key = workspace.trustedKeys[serverName] else {
                throw RuntimeError.workspace(path: workspace.directory, reason: "no trusted key for the server '\(serverName)' in trusted/")
            }
            guard let signature = message.metadata[MessageKey.signature], !signature.isEmpty else {
                throw RuntimeError.badMessage("the job is unsigned: refused")
            }
            let (sha, _) = try JobSignature.digest(ofFile: message.path)
            do {
                try JobSignature.verify(sha256Hex: sha, signatureText: signature, publicKey: key, archive: "job \(job)")
            } catch {
                throw RuntimeError.badMessage("the job's signature does not verify with the trusted server key (tampered or signed by another key): refused")
            }
            try FileSystem.makeDirectory(dir)
            let unpacked = FileSystem.join(dir, "job")
            FileSystem.remove(unpacked)  // a partial unpack from an interrupted run
            _ = try JobArchive.unpack(archive: message.path, into: unpacked)
            // Large files of this app's folder come as messages of their own: the deployment goes on
            // once they are all here (settleFileDeployments).
            if try awaitFiles(message, job: job, app: app, archiveSHA256: sha, key: key) { return }
            try accept(job: job, app: app)
        } catch where DiskSpace.isFull(error) {
            keepMessage = true
            for name in ["deploy.json", "plan.json", "job", ClientFiles.pendingFiles, PendingApproval.fileName] {
                FileSystem.remove(FileSystem.join(dir, name))
            }
            throw error
        } catch {
            try refuse(job: job, reason: "\(error)")
        }
    }

    /// Queues the answer that `deploy.json` or `refused.json` records (a no-op once it is queued): a
    /// watcher killed between recording the outcome and queueing its answer would otherwise leave the
    /// server waiting for it until the deployment's deadline.
    func answerDeploymentAgain(job: String) throws {
        let messageID = "\(job).result.deploy.\(workspace.name)"
        guard !outbox.contains(messageID) else { return }
        let refused = try? JSONFile.readIfPresent(StopRecord.self, from: FileSystem.join(jobDirectory(job), "refused.json"))
        try reply(job: job, task: "deploy", round: 0, ok: refused == nil, error: refused?.reason, payload: nil, id: messageID)
        log(job, "answered the deployment (\(refused == nil ? "accepted" : "refused")): the watcher that decided stopped before it could")
    }

    /// Loads the unpacked job (its large files in place) and puts it to the site's policy.yaml, which
    /// decides before anything of the job runs (docs/policy.md): refused, held for the operator's
    /// approval, or accepted.
    func accept(job: String, app: String) throws {
        let unpacked = FileSystem.join(jobDirectory(job), "job")
        // The initial model stays with the server (beside the archive): round 1 sends it as a task.
        let folder = try JobFolder.load(directory: unpacked, displayName: job, requireInitialModel: false)
        guard case .client(let config) = folder.apps[app] else {
            throw RuntimeError.badMessage("the job has no client app '\(app)'")
        }
        try checkResources(app: app, config: config, jobResources: folder.definition.resources)
        if try checkPolicy(job: job, folder: folder, app: app, config: config).approve == .manual {
            try holdForApproval(job: job, folder: folder, app: app, config: config)
            return
        }
        try completeDeployment(job: job, folder: folder, app: app, config: config)
    }

    /// Records a verified and accepted deployment (`plan.json`, then `deploy.json`) and answers `ok`.
    func completeDeployment(job: String, folder: JobFolder, app: String, config: ClientAppConfig) throws {
        let dir = jobDirectory(job)
        let appDirectory = folder.appDirectory(app)
        try JSONFile.write(ClientDeployment(app: app, directory: appDirectory, plan: ClientPlan(config, job: folder.definition.resources)),
                           to: FileSystem.join(dir, "plan.json"))
        // The initial model is the server's (round 1 sends it as a task): unless it lies in this
        // client's app folder, the client keeps no copy of it.
        if let initial = folder.initialModelPath.map(FileSystem.absolute),
           !initial.hasPrefix(FileSystem.absolute(appDirectory) + "/") {
            FileSystem.remove(initial)
        }
        try JSONFile.write(DeployRecord(job: job, app: app, server: serverName, deployedAt: Date()), to: FileSystem.join(dir, "deploy.json"))
        log(job, "deployed: app '\(app)' verified with the server key and unpacked into \(folder.directory)")
        try reply(job: job, task: "deploy", round: 0, ok: true, error: nil, payload: nil)
    }

    /// Refuses job `id` at this site: removes its unpacked files, records `refused.json` and answers
    /// `failed` with `reason` (the server shows it).
    func refuse(job: String, reason: String) throws {
        let dir = jobDirectory(job)
        try FileSystem.makeDirectory(dir)
        for name in ["job", ClientFiles.receivedFiles] { FileSystem.remove(FileSystem.join(dir, name)) }
        try JSONFile.write(StopRecord(job: job, reason: reason, at: Date()), to: FileSystem.join(dir, "refused.json"))
        log(job, "deployment refused: \(reason)", error: true)
        try reply(job: job, task: "deploy", round: 0, ok: false, error: reason, payload: nil)
        // Last: until the answer is queued, it tells a restarted watcher to answer (settleFileDeployments).
        FileSystem.remove(FileSystem.join(dir, ClientFiles.pendingFiles))
    }

    // MARK: Tasks

    private func receiveTask(_ message: IncomingMessage, job: String) throws {
        let dir = jobDirectory(job)
        guard let task = message.task, isSafeName(task), let round = message.round else {
            FileSystem.remove(message.path)
            throw RuntimeError.badMessage("task message without a valid task name and round")
        }
        if let refused = try? JSONFile.readIfPresent(StopRecord.self, from: FileSystem.join(dir, "refused.json")) {
            FileSystem.remove(message.path)
            try reply(job: job, task: task, round: round, ok: false, error: "this site refused the job: \(refused.reason)", payload: nil)
            return
        }
        if FileSystem.exists(FileSystem.join(dir, "aborted.json")) {
            FileSystem.remove(message.path)
            return
        }
        if let violation = roundBeyondPolicy(round), !FileSystem.exists(FileSystem.join(taskDirectory(job, task), "task.json")) {
            FileSystem.remove(message.path)
            log(job, "task \(task) refused: \(violation)", error: true)
            try reply(job: job, task: task, round: round, ok: false, error: violation.description, payload: nil)
            return
        }
        let tdir = taskDirectory(job, task)
        if FileSystem.exists(FileSystem.join(tdir, "task.json")) {
            logger.info("job \(job): duplicate task \(task) ignored")
            FileSystem.remove(message.path)
            return
        }
        try FileSystem.makeDirectory(tdir)
        let hasModel = message.metadata[MessageKey.model] == "present"
        // The received file is removed only after task.json commits the arrival: a watcher killed in
        // between finds it again on restart (received leftovers) instead of losing the task.
        if hasModel {
            try placeTaskInput(message.path, in: tdir)
        }
        let rounds = message.metadata[MessageKey.rounds].flatMap { Int($0) } ?? round
        try writeRoundConfig(message.metadata[MessageKey.config], task: task, in: tdir)
        let kind = message.metadata[MessageKey.taskKind].flatMap(TaskKind.init(rawValue:)) ?? .train
        let last = message.metadata[MessageKey.lastTask].map { $0 == "true" }
        try JSONFile.write(TaskRecord(job: job, task: task, round: round, rounds: rounds, hasModel: hasModel, receivedAt: Date(),
                                      kind: kind, last: last),
                           to: FileSystem.join(tdir, "task.json"))
        FileSystem.remove(message.path)
        log(job, "received \(kind == .evaluate ? "evaluate " : "")task \(task) (round \(round) of \(rounds))\(hasModel ? ", model \(message.outputBytes) bytes (\(message.wireBytes) on the wire)" : "")")
    }

    func plan(for job: String) throws -> (app: String, directory: String, plan: ClientPlan) {
        if let p = plans[job] { return p }
        let dir = jobDirectory(job)
        if let saved = try JSONFile.readIfPresent(ClientDeployment.self, from: FileSystem.join(dir, "plan.json")) {
            let p = (app: saved.app, directory: saved.directory, plan: saved.plan)
            plans[job] = p
            return p
        }
        let deploy = try JSONFile.read(DeployRecord.self, from: FileSystem.join(dir, "deploy.json"))
        let folder = try JobFolder.load(directory: FileSystem.join(dir, "job"), displayName: job, requireInitialModel: false)
        guard case .client(let config) = folder.apps[deploy.app] else {
            throw RuntimeError.badMessage("job \(job) has no client app '\(deploy.app)'")
        }
        let p = (app: deploy.app, directory: folder.appDirectory(deploy.app), plan: ClientPlan(config, job: folder.definition.resources))
        plans[job] = p
        return p
    }

    private func start(job: String, task: String) throws {
        let tdir = taskDirectory(job, task)
        let record = try JSONFile.read(TaskRecord.self, from: FileSystem.join(tdir, "task.json"))
        let (_, appDir, plan) = try plan(for: job)
        let previous = try JSONFile.readIfPresent(TaskStart.self, from: FileSystem.join(tdir, "started.json"))
        let key = FileSystem.join(job, task)
        let slurmRecord = FileSystem.join(tdir, SlurmFiles.record)
        if previous != nil, plan.launcher == .slurm, FileSystem.exists(slurmRecord) {
            // Submitted by an earlier watcher: follow that job, never submit the task again.
            let launcher = try slurmLauncher(job: job, task: task, record: record, appDir: appDir, plan: plan)
            running[key] = (job: job, launcher: launcher)
            launcher.start()
            return
        }
        var gpus: [Int] = []
        if plan.launcher != .slurm && plan.persistent == nil {
            guard let assigned = assignGPUs(job: job, task: task, count: plan.resources?.gpus ?? 0) else { return }
            gpus = assigned
        }
        if let previous {
            // The watcher that ran the previous attempt died: its executor may still run (it leads its own
            // process group and gets no signal when the watcher dies). Kill it, and wait until it is gone,
            // before its files are cleared and the task runs again, so two executors never write them.
            guard stopLeftovers(job: job, task: task, attempt: previous.attempt) else { return }
        }
        for leftover in ["output.safetensors", "result.json"] { FileSystem.remove(FileSystem.join(tdir, leftover)) }
        try prepareControlVariates(job: job, taskDirectory: tdir)
        // The output is about the size of the input model: wait for that much room instead of starting
        // an executor that would fail on a full disk.
        do {
            try DiskSpaceShortage.check(folder: tdir, needed: bytesNeeded(tdir, record))
        } catch {
            waitForSpace(job: job, task: task, reason: "\(error)")
            return
        }
        if waitingForSpace.removeValue(forKey: key) != nil {
            log(job, "disk space is back: task \(task) starts")
        }
        if let previous {
            log(job, "task \(task) was interrupted (attempt \(previous.attempt)) before it finished; no result was sent, so it runs again")
        }
        try FileSystem.makeDirectory(FileSystem.join(tdir, "work"))
        try JSONFile.write(TaskStart(attempt: (previous?.attempt ?? 0) + 1, startedAt: Date()), to: FileSystem.join(tdir, "started.json"))
        _ = try logs.file(logPath(job))
        let launcher: any TaskLauncher
        if plan.launcher == .slurm {
            launcher = try slurmLauncher(job: job, task: task, record: record, appDir: appDir, plan: plan)
        } else if let settings = plan.persistent {
            guard let executor = persistentExecutor(job: job, record: record, appDir: appDir, plan: plan, settings: settings) else { return }
            launcher = PersistentTaskLauncher(executor: executor, invocation: invocation(job: job, task: task, record: record, appDir: appDir, plan: plan),
                                              onEnd: wake)
        } else {
            var invocation = invocation(job: job, task: task, record: record, appDir: appDir, plan: plan)
            invocation.memoryLimit = plan.resources?.maxMemory
            if workspace.gpuCount > 0 {
                invocation.environment["CUDA_VISIBLE_DEVICES"] = gpus.map(String.init).joined(separator: ",")
                gpusInUse[key] = gpus
            }
            launcher = LocalTaskLauncher(invocation, onEnd: wake)
        }
        running[key] = (job: job, launcher: launcher)
        log(job, "running task \(task): \(plan.command.joined(separator: " "))"
            + (gpus.isEmpty ? "" : " (GPUs \(gpus.map(String.init).joined(separator: ",")))"))
        launcher.start()
    }

    /// The executor invocation of a task (the same for every attempt, so a re-attached Slurm job matches).
    func invocation(job: String, task: String, record: TaskRecord, appDir: String, plan: ClientPlan) -> ExecutorInvocation {
        let tdir = taskDirectory(job, task)
        var context = ExecutorContext(
            inputModel: record.hasModel ? FileSystem.join(tdir, "input.safetensors") : "",
            outputModel: record.evaluates ? "" : FileSystem.join(tdir, "output.safetensors"),
            result: FileSystem.join(tdir, "result.json"), round: record.round, rounds: record.rounds, site: workspace.name,
            jobID: job, task: task, appDirectory: appDir, workDirectory: FileSystem.join(tdir, "work"),
            configFile: roundConfigPath(tdir), metricsFile: FileSystem.join(tdir, ClientFiles.liveMetrics))
        context.taskKind = record.kind ?? .train
        return ExecutorInvocation(command: plan.command, environment: plan.env.merging(controlVariateEnvironment(tdir)) { $1 },
                                  timeout: plan.timeout,
                                  context: context, logPath: logPath(job),
                                  toolDirectory: options.executableDirectory, killGracePeriod: .seconds(2),
                                  requireOutputModel: !record.evaluates, processRecordPath: FileSystem.join(tdir, ClientFiles.executorRecord))
    }

    /// Kills what is left of the executor of an earlier attempt of the task (recorded in `executor.json`)
    /// and waits until it is gone; false when some of it survives (the task must not run yet).
    func stopLeftovers(job: String, task: String, attempt: Int, record: String? = nil) -> Bool {
        let key = FileSystem.join(job, task)
        do {
            let killed = try ExecutorProcessRecord.stopLeftovers(
                recordedAt: record ?? FileSystem.join(taskDirectory(job, task), ClientFiles.executorRecord))
            if killed > 0 {
                log(job, record == nil ? "task \(task): killed \(killed) process(es) of the executor of attempt \(attempt), still running after the watcher's restart"
                    : "killed \(killed) process(es) of the persistent executor, still running after the watcher's restart")
            }
            blockedTasks.remove(key)
            return true
        } catch {
            if blockedTasks.insert(key).inserted {
                log(job, "task \(task) cannot run again yet: \(error)", error: true)
            }
            return false
        }
    }

    private func collectCompletions() {
        var done: [(key: String, outcome: ExecutorOutcome, stopped: Bool)] = []
        for (key, run) in running.sorted(by: { $0.key < $1.key }) {
            guard let outcome = run.launcher.poll() else { continue }
            done.append((key, outcome, run.launcher.isStopping))
        }
        for (key, outcome, stopped) in done {
            running.removeValue(forKey: key)
            releaseGPUs(key)
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            let (job, task) = (parts[0], parts[1])
            if stopped, outcome.termination == .cancelled || !outcome.succeeded {
                log(job, "task \(task) stopped (\(outcome.termination))")
                continue
            }
            let tdir = taskDirectory(job, task)
            var record = TaskOutcome(ok: outcome.succeeded, numSamples: outcome.result?.numSamples, metrics: outcome.result?.metrics,
                                     durationSeconds: outcome.duration.seconds,
                                     error: outcome.failure.map { "\($0)" }, finishedAt: Date())
            if !record.ok, let reason = diskFull(tdir, job: job, task: task, error: record.error ?? "") {
                // Not the task's fault: it runs again from the same input once there is room.
                for leftover in ["output.safetensors", "result.json", "work", "started.json"] {
                    FileSystem.remove(FileSystem.join(tdir, leftover))
                }
                log(job, "task \(task): the executor failed while the disk is full; paused, not failed: it runs again once there is room (\(reason))", error: true)
                waitForSpace(job: job, task: task, reason: reason)
                continue
            }
            if record.ok, let failure = finishControlVariates(job: job, taskDirectory: tdir) {
                record.ok = false
                record.error = failure
            }
            if record.ok {
                let metrics = (record.metrics ?? [:]).keys.sorted().map { "\($0)=\(formatFixed(record.metrics![$0]!, 4))" }.joined(separator: " ")
                log(job, "task \(task) done in \(DurationText.format(outcome.duration)): \(record.numSamples ?? 0) samples \(metrics)")
            } else {
                log(job, "task \(task) failed: \(record.error ?? "")", error: true)
            }
            recordOutcome(record, job: job, task: task)
        }
    }

    /// Writes `outcome.json` and queues the result; on a full disk keeps the outcome for a later pass
    /// (the task is not run again meanwhile).
    private func recordOutcome(_ record: TaskOutcome, job: String, task: String) {
        let key = FileSystem.join(job, task)
        do {
            try JSONFile.write(record, to: FileSystem.join(taskDirectory(job, task), "outcome.json"))
            unrecorded.removeValue(forKey: key)
            try queueResult(job: job, task: task)
            // A task with an outcome never runs again, and its result is filtered (privacy filters
            // measure the update from the input): the input is no longer needed.
            FileSystem.remove(FileSystem.join(taskDirectory(job, task), "input.safetensors"))
        } catch {
            if !FileSystem.exists(FileSystem.join(taskDirectory(job, task), "outcome.json")) {
                if unrecorded.updateValue(record, forKey: key) == nil {
                    logger.error("job \(job): cannot record the outcome of \(task) yet: \(error); retrying")
                }
            } else if !DiskSpace.isFull(error) {
                logger.error("job \(job): cannot queue the result of \(task): \(error)")
            }
        }
    }

    /// Free space a task needs before it starts: its output, about the size of its input model, and a
    /// margin for the result, the log and the messages.
    private func bytesNeeded(_ tdir: String, _ record: TaskRecord) -> Int64 {
        (record.hasModel ? FileSystem.size(FileSystem.join(tdir, "input.safetensors")) : 0) + DiskPause.margin
    }

    /// Why a failed executor is taken for a full disk (its error says so, or the task's folder has less
    /// free space than the task needs), or nil.
    private func diskFull(_ tdir: String, job: String, task: String, error: String) -> String? {
        let saysFull = DiskSpace.isFull(text: error)
        let record = try? JSONFile.read(TaskRecord.self, from: FileSystem.join(tdir, "task.json"))
        let needed = record.map { bytesNeeded(tdir, $0) } ?? DiskPause.margin
        let free = DiskSpace.available(at: tdir) ?? Int64.max
        guard saysFull || free < needed else { return nil }
        let shortage = DiskSpaceShortage(folder: tdir, needed: needed, available: free == Int64.max ? 0 : free)
        return shortage.description + (saysFull ? " (the executor's error says the disk is full)" : "")
    }

    /// Reports once that a task waits for disk space (in the watcher's log and the job's log).
    private func waitForSpace(job: String, task: String, reason: String) {
        let key = FileSystem.join(job, task)
        guard waitingForSpace[key] != reason else { return }
        let first = waitingForSpace.updateValue(reason, forKey: key) == nil
        log(job, "task \(task) waits for disk space: \(reason)", error: true)
        if first { notifyPaused(job: job, task: task, reason: reason) }
    }

    /// Tells the server that a task waits for disk space (its state shows it; the result follows
    /// later). Best effort: the note lives in the outbox, which may be on the full disk too.
    private func notifyPaused(job: String, task: String, reason: String) {
        guard let record = try? JSONFile.read(TaskRecord.self, from: FileSystem.join(taskDirectory(job, task), "task.json")) else { return }
        let messageID = "\(job).paused.\(task).\(workspace.name)"
        let note = FileSystem.join(workspace.directory, "outbox", "notes", messageID + ".json")
        let metadata: [String: String] = [
            MessageKey.kind: MessageKind.result.rawValue, MessageKey.job: job, MessageKey.site: workspace.name,
            MessageKey.task: task, MessageKey.round: String(record.round), MessageKey.status: "paused",
            MessageKey.message: messageID, MessageKey.error: "waiting for disk space: " + String(reason.suffix(2048)),
        ]
        do {
            try FileSystem.makeDirectory(FileSystem.join(workspace.directory, "outbox", "notes"))
            try JSONFile.write(["status": "paused", "error": reason], to: note)
            try outbox.enqueue(OutgoingMessage(
                id: messageID, kind: .result, job: job, payload: note, recipients: [serverName], metadata: metadata,
                quantize: nil, mode: .file, chunkSize: WireSettings.plain.chunkSize,
                window: WireSettings.plain.window, windowBytes: WireSettings.plain.windowBytes,
                removePayloadWhenSent: true, createdAt: Date()))
        } catch {
            logger.warning("job \(job): cannot tell the server that \(task) waits for disk space: \(error)")
        }
    }

    private func queueResult(job: String, task: String) throws {
        let messageID = "\(job).result.\(task).\(workspace.name)"
        guard !outbox.contains(messageID) else { return }
        let tdir = taskDirectory(job, task)
        let record = try JSONFile.read(TaskRecord.self, from: FileSystem.join(tdir, "task.json"))
        let outcome = try JSONFile.read(TaskOutcome.self, from: FileSystem.join(tdir, "outcome.json"))
        if outcome.ok && record.evaluates {
            // An evaluate task's result is its metrics alone (in the message's metadata): no model goes back.
            try reply(job: job, task: task, round: record.round, ok: true, error: nil, payload: nil, outcome: outcome)
        } else if outcome.ok {
            // The job's privacy filters run before anything leaves the site; when they cannot, the
            // result is not sent at all and the server gets the reason.
            do {
                let (payload, filters) = try filteredResult(job: job, task: task, round: record.round,
                                                            output: resultPayload(tdir))
                try reply(job: job, task: task, round: record.round, ok: true, error: nil, payload: payload,
                          outcome: outcome, extraMetadata: filters)
            } catch let error as PrivacyFilterError where !DiskSpace.isFull(error) {
                let reason = "the result of \(task) was not sent: its privacy filters failed: \(error)"
                log(job, reason, error: true)
                try reply(job: job, task: task, round: record.round, ok: false, error: reason, payload: nil)
            }
        } else {
            try reply(job: job, task: task, round: record.round, ok: false, error: outcome.error, payload: nil, outcome: outcome)
        }
        // Ship the job log with every result (it replaces the server's copy), as much of it as the
        // site's policy lets go (`logs:`).
        let snapshot = FileSystem.join(tdir, "log-snapshot.log")
        if FileSystem.exists(logPath(job)) {
            FileSystem.remove(snapshot)
            // Atomic: a full disk leaves no partial snapshot (the log then goes with the next result).
            guard writeLogSnapshot(job: job, to: snapshot) else { return }
            let metadata: [String: String] = [
                MessageKey.kind: MessageKind.log.rawValue, MessageKey.job: job, MessageKey.site: workspace.name,
                MessageKey.task: task,
            ]
            try outbox.enqueue(OutgoingMessage(
                id: "\(job).log.\(task).\(workspace.name)", kind: .log, job: job, payload: snapshot, recipients: [serverName],
                metadata: metadata, quantize: nil, mode: .file, chunkSize: WireSettings.plain.chunkSize,
                window: WireSettings.plain.window,
                windowBytes: WireSettings.plain.windowBytes, removePayloadWhenSent: true, createdAt: Date()))
        }
    }

    /// Queues a result message (also the answer to a deployment).
    func reply(job: String, task: String, round: Int, ok: Bool, error: String?, payload: String?,
               outcome: TaskOutcome? = nil, id: String? = nil, extraMetadata: [String: String] = [:]) throws {
        let messageID = id ?? "\(job).result.\(task).\(workspace.name)"
        var metadata: [String: String] = [
            MessageKey.kind: MessageKind.result.rawValue, MessageKey.job: job, MessageKey.site: workspace.name,
            MessageKey.task: task, MessageKey.round: String(round), MessageKey.status: ok ? "ok" : "failed",
            MessageKey.message: messageID,
        ]
        if let error { metadata[MessageKey.error] = String(error.suffix(4096)) }
        metadata.merge(extraMetadata) { current, _ in current }
        if let outcome {
            metadata[MessageKey.duration] = String(outcome.durationSeconds)
            if outcome.ok, let n = outcome.numSamples {
                let result = ExecutorResult(numSamples: n, metrics: outcome.metrics ?? [:])
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                if let data = try? encoder.encode(result) { metadata[MessageKey.result] = String(decoding: data, as: UTF8.self) }
            }
        }
        var file = payload
        var wire = WireSettings.plain
        if let payload {
            wire = (try? plan(for: job).plan.toServer) ?? .plain
            if wire.mode == .container && !payload.hasSuffix(".safetensors") { wire.mode = .file }
        } else {
            let dir = task == "deploy" ? jobDirectory(job) : taskDirectory(job, task)
            try FileSystem.makeDirectory(dir)
            let note = FileSystem.join(dir, "\(task)-answer.json")
            try JSONFile.write(["status": ok ? "ok" : "failed", "error": error ?? ""], to: note)
            file = note
        }
        try outbox.enqueue(OutgoingMessage(
            id: messageID, kind: .result, job: job, payload: file!, recipients: [serverName], metadata: metadata,
            quantize: payload == nil ? nil : wire.quantize, mode: wire.mode, chunkSize: wire.chunkSize,
            window: wire.window, windowBytes: wire.windowBytes,
            removePayloadWhenSent: false, createdAt: Date(), filterRequired: payload == nil ? nil : resultFilterRequired()))
    }

    // MARK: Abort

    /// Stops job `job` for good: its executors are stopped, its unsent messages dropped.
    func abort(_ job: String, reason: String, stoppedBy: String = "the server") {
        let dir = jobDirectory(job)
        guard FileSystem.isDirectory(dir), !FileSystem.exists(FileSystem.join(dir, "aborted.json")) else { return }
        try? JSONFile.write(StopRecord(job: job, reason: reason, at: Date()), to: FileSystem.join(dir, "aborted.json"))
        for (key, run) in running where run.job == job {
            run.launcher.abort()
            log(job, "stopping \(key): \(reason)")
        }
        cancelSlurmJobs(of: job)
        stopPersistentExecutor(job, grace: .seconds(2))
        outbox.cancel(job: job)
        log(job, "job stopped by \(stoppedBy): \(reason)")
    }

    private func isSafeName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 128 && s != "." && s != ".." && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
            && !s.hasPrefix(".")
    }
}
