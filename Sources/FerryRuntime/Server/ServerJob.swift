import FerryExecutor
import FerrySupport
import FerryWorkspace
import Foundation
import Logging

/// Drives one job on the server: deployment, then the rounds of its workflow. Runs on the watcher's
/// loop thread only; every step is persisted before the next one starts.
final class ServerJob {
    let id: String
    let directory: String
    let runtimeDirectory: String
    let store: ServerStore
    let outbox: Outbox
    let logger: Logger
    let serverName: String
    var state: ServerJobState
    /// The server's view of its sites' heartbeats; nil: every site is waited for until the deadlines.
    var liveness: LivenessMonitor?

    var statePath: String { FileSystem.join(runtimeDirectory, "workflow.json") }

    init(id: String, store: ServerStore, outbox: Outbox, logger: Logger, serverName: String, state: ServerJobState) {
        self.id = id
        self.store = store
        self.directory = store.jobDirectory(id)
        self.runtimeDirectory = FileSystem.join(store.jobDirectory(id), "runtime")
        self.outbox = outbox
        self.logger = logger
        self.serverName = serverName
        self.state = state
    }

    var isFinished: Bool { state.phase == .finished }

    /// Whether `state.json` holds the end (set by ``recordEnding()``); a finished job whose end is not
    /// recorded stays with the watcher, which retries (``retryEnding(now:)``).
    private(set) var endingRecorded = false
    private var endingRetries = 0
    private var nextEndingRetry = Date.distantPast
    /// Set while the job waits for disk space (``pause(after:in:)``): what it waits on, the step that
    /// hit the full disk, and whether `state.json` says so yet.
    var pause: (key: String, step: PausedStep, recorded: Bool)?
    /// The paused tasks the job log already said it waits for past the deadline.
    var reportedHeldTasks: Set<String> = []

    func save() throws { try JSONFile.write(state, to: statePath) }

    // MARK: Paths

    func roundDirectory(_ round: Int) -> String { FileSystem.join(runtimeDirectory, "round-") + Names.round(round) }
    func outcomePath(round: Int, site: String) -> String { FileSystem.join(roundDirectory(round), "\(site).json") }
    func deployOutcomePath(_ site: String) -> String { FileSystem.join(runtimeDirectory, "deploy/\(site).json") }
    func globalModelPath(_ round: Int) -> String { FileSystem.join(directory, "models/global-round-\(round).safetensors") }
    var finalModelPath: String { FileSystem.join(directory, "models/final.safetensors") }

    func taskName(round: Int, step: Int? = nil) -> String {
        var name = "train-r" + Names.round(round)
        if let step { name += "-s" + Names.round(step + 1).suffix(2) }
        return name
    }

    func taskMessageID(round: Int, step: Int? = nil) -> String { "\(id).task.\(taskName(round: round, step: step))" }

    // MARK: The pass

    /// One step of the job's work; returns when nothing more can be done now.
    func drive(now: Date = Date()) throws {
        guard !isFinished else { return }
        if store.isAbortRequested(id) {
            try finish(.aborted, reason: "aborted on request (ferry abort)")
            return
        }
        switch state.phase {
        case .deploying:
            try driveDeployment(now: now)
        case .running:
            let workflow = ServerWorkflows.make(state.plan)
            if state.roundStartedAt == nil { try workflow.startRound(self, now: now) }
            guard try workflow.collect(self, now: now), !isFinished else { return }
            try workflow.finishRound(self)
        case .finished:
            return
        }
    }

    // MARK: Deployment

    /// Sends the signed archive to every site of each client app, and the large files of the app's folder.
    func sendDeployments() throws {
        let signature = try store.signature(id)
        var byApp: [String: [String]] = [:]
        for site in state.plan.sites { byApp[state.plan.siteApps[site]!, default: []].append(site) }
        for app in byApp.keys.sorted() {
            let sites = byApp[app]!
            var extra = [MessageKey.app: app, MessageKey.signature: signature]
            if let large = try largeFiles(of: app) {
                extra[MessageKey.files] = large.manifest
                extra[MessageKey.filesSignature] = large.signature
                try sendLargeFiles(large.files, app: app, to: sites)
            }
            let message = OutgoingMessage(
                id: "\(id).deploy.\(app)", kind: .deploy, job: id, payload: store.archivePath(id), recipients: sites,
                metadata: metadata(.deploy, task: "deploy", extra: extra),
                quantize: nil, mode: WireSettings.plain.mode, chunkSize: WireSettings.plain.chunkSize,
                window: WireSettings.plain.window,
                windowBytes: WireSettings.plain.windowBytes, removePayloadWhenSent: false, createdAt: Date())
            try outbox.enqueue(message)
        }
    }

    private func driveDeployment(now: Date) throws {
        try sendDeployments()  // idempotent: re-queues nothing already queued or sent
        var answered: [String: ClientOutcome] = [:]
        for site in state.plan.sites {
            if let outcome = try JSONFile.readIfPresent(ClientOutcome.self, from: deployOutcomePath(site)) {
                answered[site] = outcome
            }
        }
        var absent: [String: String] = [:]
        for site in state.plan.sites where answered[site] == nil {
            absent[site] = liveness?.absence(of: site, now: now)
        }
        let possible = state.plan.sites.filter { answered[$0] == nil ? absent[$0] == nil : answered[$0]!.status == .ok }.count
        guard answered.count + absent.count == state.plan.sites.count || now >= state.deployDeadline
            || (!absent.isEmpty && possible < state.plan.minClients) else { return }
        var accepted: [String] = []
        var problems: [String] = []
        for site in state.plan.sites {
            if let outcome = answered[site] {
                if outcome.status == .ok {
                    accepted.append(site)
                } else {
                    problems.append("\(site): refused the job: \(outcome.error ?? "no reason given")")
                }
            } else if let absence = absent[site] {
                problems.append("\(site): \(absence)")
            } else {
                problems.append(unansweredDeployment(site))
            }
        }
        for problem in problems { logger.warning("deployment: \(problem)") }
        if accepted.count < state.plan.minClients {
            try store.update(id) { file in
                for site in state.plan.sites where !accepted.contains(site) { file.sites[site] = absent[site].map { "absent: \($0)" } ?? unacceptedState(site, answered[site]) }
            }
            try finish(.failed, reason: "deployment: only \(accepted.count) of \(state.plan.sites.count) sites accepted the job (min_clients \(state.plan.minClients)); " + problems.joined(separator: "; "))
            return
        }
        state.participants = accepted
        state.phase = .running
        state.round = 1
        state.roundStartedAt = nil
        state.currentModel = state.plan.initialModel
        try save()
        try store.update(id) { file in
            file.state = .running
            for site in accepted { file.sites[site] = "deployed" }
            for site in state.plan.sites where !accepted.contains(site) { file.sites[site] = absent[site].map { "absent: \($0)" } ?? unacceptedState(site, answered[site]) }
        }
        logger.info("deployed to \(accepted.joined(separator: ", ")); running \(state.plan.workflow.rawValue) for \(state.plan.rounds) round(s)")
    }

    // MARK: Results

    /// Stores a client's result if it is the one awaited; late and duplicate results are discarded.
    func accept(_ message: IncomingMessage) throws {
        let site = message.site
        let task = message.task ?? ""
        let ok = message.metadata[MessageKey.status] == "ok"
        if message.metadata[MessageKey.status] == "pending" {
            try clientAwaitsApproval(site: site)
            FileSystem.remove(message.path)
            return
        }
        if message.metadata[MessageKey.status] == "paused" {
            try clientPaused(site: site, task: task, reason: message.metadata[MessageKey.error] ?? "waiting for disk space")
            FileSystem.remove(message.path)
            return
        }
        if task == "deploy" {
            let path = deployOutcomePath(site)
            guard state.phase == .deploying, state.plan.sites.contains(site), !FileSystem.exists(path) else {
                logger.info("discarded a duplicate or late deployment answer from \(site)")
                FileSystem.remove(message.path)
                return
            }
            let outcome = ClientOutcome(site: site, task: task, round: 0, status: ok ? .ok : .failed,
                                        error: message.metadata[MessageKey.error], receivedAt: Date())
            try FileSystem.makeDirectory(FileSystem.join(runtimeDirectory, "deploy"))
            try JSONFile.write(outcome, to: path)
            FileSystem.remove(message.path)
            logger.info("\(site) \(ok ? "accepted the job" : "refused the job: \(outcome.error ?? "")")")
            try store.update(id) { $0.sites[site] = ok ? "deployed" : "refused: \(outcome.error ?? "no reason given")" }
            return
        }
        let round = message.round ?? -1
        var awaited: String? = nil
        if state.phase == .running, round == state.round, state.participants.contains(site), state.roundStartedAt != nil {
            awaited = ServerWorkflows.make(state.plan).outcomePath(self, task: task, site: site)
        }
        guard let path = awaited, !FileSystem.exists(path) else {
            logger.info("discarded a late or duplicate result from \(site) for \(task) (round \(round); current round \(state.round))")
            FileSystem.remove(message.path)
            return
        }
        try FileSystem.makeDirectory((path as NSString).deletingLastPathComponent)
        var outcome = ClientOutcome(site: site, task: task, round: round, status: ok ? .ok : .failed,
                                    durationSeconds: message.metadata[MessageKey.duration].flatMap(Double.init),
                                    error: message.metadata[MessageKey.error],
                                    bytesFromClient: message.wireBytes, bytesFromClientUnquantized: message.outputBytes,
                                    receivedAt: Date())
        if ok {
            if let text = message.metadata[MessageKey.result],
               let result = try? ExecutorResult.parse(Data(text.utf8), path: "result of \(site)") {
                outcome.numSamples = result.numSamples
                outcome.metrics = result.metrics
            }
            // The received file is linked into place and removed only after the outcome commits the
            // result: a watcher killed in between finds it again on restart instead of losing it.
            if TaskKind(taskName: task) == .train {
                let model = FileSystem.join(roundDirectory(round), "\(site).safetensors")
                outcome.filters = Self.appliedFilters(message.metadata)
                if !completeExcluded(message.path, filters: outcome.filters, round: round, site: site, into: model) {
                    try FileSystem.linkReplacing(message.path, to: model)
                }
                outcome.model = model
            }
        }
        try JSONFile.write(outcome, to: path)
        FileSystem.remove(message.path)
        let metricsText = (outcome.metrics ?? [:]).keys.sorted().map { "\($0)=\(formatFixed(outcome.metrics![$0]!, 4))" }.joined(separator: " ")
        logger.info(ok ? "round \(round): result from \(site): \(outcome.numSamples ?? 0) samples \(metricsText)"
                       : "round \(round): \(site) failed: \(outcome.error ?? "no reason given")")
        try store.update(id) { file in
            if file.paused?.hasPrefix("\(site): ") == true { file.paused = nil }
            file.sites[site] = ok ? "done round \(round)" : "failed round \(round)"
            file.bytesReceived += message.wireBytes
            file.bytesReceivedUnquantized += message.outputBytes
        }
    }

    /// Accounts for a finished send of this job.
    func sent(_ record: SentRecord) throws {
        for note in record.notes ?? [] { logger.warning("\(record.kind.rawValue) \(record.id): \(note)") }
        guard record.error == nil, record.kind == .task else { return }
        let n = Int64(record.recipients.count)
        try store.update(id) { file in
            file.bytesSent += record.bytesOnWire * n
            file.bytesSentUnquantized += record.sourceBytes * n
        }
    }

    // MARK: Finishing

    /// How a job ended.
    enum Ending: String, Codable, Sendable { case completed, failed, aborted }

    /// Ends the job: stops its pending sends, tells the clients (failed/aborted), commits the end in
    /// `workflow.json`, then records the final state in the job store.
    func finish(_ ending: Ending, reason: String?) throws {
        if ending != .completed {
            outbox.cancel(job: id)
            let recipients = state.plan.sites
            if !recipients.isEmpty {
                let note = FileSystem.join(runtimeDirectory, "abort.json")
                try JSONFile.write(["reason": reason ?? ""], to: note)
                try outbox.enqueue(OutgoingMessage(
                    id: "\(id).abort", kind: .abort, job: id, payload: note, recipients: recipients,
                    metadata: metadata(.abort, task: "abort", extra: [MessageKey.reason: reason ?? ""]),
                    quantize: nil, mode: .file, chunkSize: WireSettings.plain.chunkSize,
                    window: WireSettings.plain.window, windowBytes: WireSettings.plain.windowBytes,
                    removePayloadWhenSent: false, createdAt: Date()))
            }
        }
        state.phase = .finished
        state.ending = ending
        state.endReason = reason
        state.endedAt = Date()
        try save()
        releaseAfterEnd()
        try recordEnding()
        switch ending {
        case .completed: logger.info("job finished: completed")
        case .failed: logger.error("job finished: failed: \(reason ?? "")")
        case .aborted: logger.warning("job finished: aborted: \(reason ?? "")")
        }
    }

    /// Writes the end committed in `workflow.json` into the job store's `state.json`. Called by ``finish``
    /// and, after a restart, for a job whose `workflow.json` is finished but whose `state.json` still says
    /// `dispatched`/`running` (the server was killed between the two writes; without this the job stayed
    /// `running` for ever). A `workflow.json` of an older version carries no ending: completed when the
    /// final model was published, failed otherwise.
    func recordEnding() throws {
        let ending = state.ending ?? (FileSystem.exists(finalModelPath) ? .completed : .failed)
        let reason = state.endReason ?? (ending == .completed ? nil : "the server stopped while finishing the job")
        try store.update(id) { file in
            switch ending {
            case .completed: file.state = .completed
            case .failed: file.state = .failed
            case .aborted: file.state = .aborted
            }
            file.reason = reason
            file.paused = nil
            file.finishedAt = state.endedAt ?? Date()
        }
        endingRecorded = true
    }

    /// Commits the end again after an attempt failed (an I/O error on `workflow.json` or `state.json`):
    /// `workflow.json`, then `state.json`. The ending already decided wins: a failed write never turns
    /// a completed job into a failed one. Tries at most once per pass, waiting 1, 2, 4 … 60 s in between;
    /// does nothing for a job that is not finished or whose end is recorded.
    func retryEnding(now: Date = Date()) throws {
        guard isFinished, !endingRecorded, now >= nextEndingRetry else { return }
        endingRetries += 1
        nextEndingRetry = now.addingTimeInterval(min(60, Double(1 << min(endingRetries - 1, 6))))
        try save()
        try recordEnding()
        logger.info("recorded the end of the job in state.json (retry \(endingRetries))")
    }

    // MARK: Helpers

    func metadata(_ kind: MessageKind, task: String, round: Int? = nil, extra: [String: String] = [:]) -> [String: String] {
        var m: [String: String] = [
            MessageKey.kind: kind.rawValue, MessageKey.job: id, MessageKey.site: serverName,
            MessageKey.task: task, MessageKey.rounds: String(state.plan.rounds),
        ]
        if let round { m[MessageKey.round] = String(round) }
        for (k, v) in extra { m[k] = v }
        return m
    }

    /// Sends a task: the model at `model` (or a small descriptor when nil) to `sites`.
    func sendTask(round: Int, step: Int?, model: String?, to sites: [String]) throws {
        // The last round's train task is a site's last task unless evaluations follow it.
        let last: Bool? = round >= state.plan.rounds && evaluationFollowsLastRound ? false : nil
        try sendTask(named: taskName(round: round, step: step), round: round, model: model, kind: .train, last: last, to: sites)
    }

    /// Sends task `task` of `kind` (message `<job>.task.<task>`); `last` tells the sites whether more
    /// tasks follow (nil: the client decides by the round).
    func sendTask(named task: String, round: Int, model: String?, kind: TaskKind, last: Bool?, to sites: [String]) throws {
        let messageID = "\(id).task.\(task)"
        guard !outbox.contains(messageID) else { return }
        var payload = model
        var wire = state.plan.toClients
        if payload == nil {
            let descriptor = FileSystem.join(roundDirectory(round), "\(task).json")
            try FileSystem.makeDirectory(roundDirectory(round))
            try JSONFile.write(["job": id, "task": task, "round": String(round), "model": "none"], to: descriptor)
            payload = descriptor
            wire = .plain
        } else if wire.mode == .container && !payload!.hasSuffix(".safetensors") {
            wire.mode = .file
        }
        var extra = [MessageKey.model: model == nil ? "none" : "present", MessageKey.message: messageID]
        extra[MessageKey.config] = state.plan.roundConfig?.json(round: round, rounds: state.plan.rounds)
        if kind != .train { extra[MessageKey.taskKind] = kind.rawValue }
        if let last { extra[MessageKey.lastTask] = last ? "true" : "false" }
        let message = OutgoingMessage(
            id: messageID, kind: .task, job: id, payload: payload!, recipients: sites,
            metadata: metadata(.task, task: task, round: round, extra: extra),
            quantize: model == nil ? nil : wire.quantize, mode: wire.mode, chunkSize: wire.chunkSize,
            window: wire.window, windowBytes: wire.windowBytes,
            removePayloadWhenSent: false, createdAt: Date())
        try outbox.enqueue(message)
        try store.update(id) { file in
            for site in sites { file.sites[site] = kind == .evaluate ? "evaluating (\(task))" : "training round \(round)" }
        }
    }

    /// The round record's byte figures of the task message `messageID` for one client.
    func bytesToClient(_ messageID: String) -> (Int64, Int64) {
        guard let record = outbox.sentRecord(messageID), record.error == nil else { return (0, 0) }
        return (record.bytesOnWire, record.sourceBytes)
    }

    /// The notes of the task message `messageID` (an unavailable filter, say), nil when there are none.
    func sendNotes(_ messageIDs: [String]) -> [String]? {
        let notes = messageIDs.flatMap { outbox.sentRecord($0)?.notes ?? [] }
        return notes.isEmpty ? nil : Array(Set(notes)).sorted()
    }

    /// Appends this round to `metrics.json`.
    func recordMetrics(round: Int, aggregate: [String: Double], clients: Int, evaluation: [String: Double]? = nil) throws {
        let path = FileSystem.join(directory, "metrics.json")
        var file = (try? JSONFile.readIfPresent(MetricsFile.self, from: path)) ?? MetricsFile(rounds: [], final: [:])
        file.rounds.removeAll { $0.round >= round }
        file.rounds.append(.init(round: round, metrics: aggregate, clients: clients, evaluation: evaluation))
        file.final = aggregate
        try JSONFile.write(file, to: path)
    }

    /// Publishes `source` as the final model: a hard link to the last global model (no copy, no
    /// extra space; docs/workspaces.md).
    func publishFinal(from source: String) throws {
        FileSystem.remove(finalModelPath + ".copying")  // left by an older version
        try copyModel(from: source, to: finalModelPath)
    }

    /// Puts `source` at `destination` atomically without copying it: a hard link under a temporary
    /// name, renamed into place. Where the file system has no hard links, an atomic copy.
    func copyModel(from source: String, to destination: String) throws {
        let tmp = destination + ".linking"
        FileSystem.remove(tmp)
        if link(source, tmp) == 0 {
            try FileSystem.move(tmp, to: destination)
        } else {
            try FileSystem.copy(source, to: destination)
        }
    }

    /// Persists a finished round: its record under `rounds/`, `metrics.json` and the job's current round.
    /// On the last round it also publishes `model` as the final model and completes the job.
    /// - Returns: true when the job is now finished.
    func commitRound(_ record: RoundRecord, clients: Int, model: String?) throws -> Bool {
        let record = withFilters(record)
        try FileSystem.makeDirectory(FileSystem.join(directory, "rounds"))
        try JSONFile.write(record, to: FileSystem.join(directory, "rounds/round-\(Names.round(record.round)).json"))
        try recordMetrics(round: record.round, aggregate: record.aggregate, clients: clients, evaluation: record.evaluation?.aggregate)
        writeTensorBoard(record)
        try store.update(id) { $0.round = record.round }
        guard record.round >= state.plan.rounds else { return false }
        if let model { try publishFinal(from: model) }
        try finish(.completed, reason: nil)
        return true
    }
}
