import FerryJobs
import FerrySupport
import Foundation

/// `approve: manual` (policy.yaml): a deployment that passed the policy waits in `pending.json` until
/// the operator's `ferry approve` / `ferry reject` drops a request file; the watcher alone acts on it.
extension ClientRole {
    /// Records the deployment as waiting for approval and tells the server.
    func holdForApproval(job: String, folder: JobFolder, app: String, config: ClientAppConfig) throws {
        var pending = PendingApproval(
            job: job, name: folder.definition.name, app: app, server: serverName, command: config.executor.command,
            env: config.executor.env, toServer: config.filters.toServer?.rawValue, rounds: folder.serverApp.rounds,
            receivedAt: Date())
        if !config.filters.privacy.isEmpty { pending.privacy = config.filters.privacy.map(\.summary) }
        try JSONFile.write(pending, to: FileSystem.join(jobDirectory(job), PendingApproval.fileName))
        log(job, "waiting for approval by this site's operator: `ferry approve \(job) --workspace \(workspace.directory)` "
            + "runs it, `ferry reject \(job) --workspace \(workspace.directory)` refuses it")
        try notifyPending(job: job)
    }

    /// Tells the server that job `id` waits for approval here (`ferry.status: pending`, not an answer;
    /// the answer follows the decision). Idempotent.
    func notifyPending(job: String) throws {
        let messageID = "\(job).pending.deploy.\(workspace.name)"
        let notes = FileSystem.join(workspace.directory, "outbox", "notes")
        let note = FileSystem.join(notes, messageID + ".json")
        let metadata: [String: String] = [
            MessageKey.kind: MessageKind.result.rawValue, MessageKey.job: job, MessageKey.site: workspace.name,
            MessageKey.task: "deploy", MessageKey.round: "0", MessageKey.status: "pending", MessageKey.message: messageID,
        ]
        guard !outbox.contains(messageID) else { return }
        try FileSystem.makeDirectory(notes)
        try JSONFile.write(["status": "pending"], to: note)
        try outbox.enqueue(OutgoingMessage(
            id: messageID, kind: .result, job: job, payload: note, recipients: [serverName], metadata: metadata,
            quantize: nil, mode: .file, chunkSize: WireSettings.plain.chunkSize, window: WireSettings.plain.window,
            removePayloadWhenSent: true, createdAt: Date()))
    }

    /// Acts on the operators' approve/reject requests (one pass).
    func takeDecisions() {
        for job in FileSystem.list(workspace.jobsDirectory) where !job.hasPrefix(".") {
            let dir = jobDirectory(job)
            let files = [PendingApproval.fileName] + ApprovalDecision.allCases.map(\.requestFile)
            guard files.contains(where: { FileSystem.exists(FileSystem.join(dir, $0)) }) else { continue }
            do {
                try decide(job)
            } catch {
                // A full disk or another I/O error: the request stays and is tried again on the next pass.
                logger.error("job \(job): cannot act on the approval request yet: \(error)")
            }
        }
    }

    private func decide(_ job: String) throws {
        let dir = jobDirectory(job)
        func path(_ name: String) -> String { FileSystem.join(dir, name) }
        func clear() {
            for decision in ApprovalDecision.allCases { FileSystem.remove(path(decision.requestFile)) }
            FileSystem.remove(path(PendingApproval.fileName))
        }
        if FileSystem.exists(path("aborted.json")) {
            if FileSystem.exists(path(PendingApproval.fileName)) { log(job, "the server stopped the job before this site decided on it") }
            clear()
            return
        }
        // Decided before a restart: answer again (a no-op once queued), then tidy up.
        if FileSystem.exists(path("deploy.json")) {
            try reply(job: job, task: "deploy", round: 0, ok: true, error: nil, payload: nil)
            clear()
            return
        }
        if let refused = try JSONFile.readIfPresent(StopRecord.self, from: path("refused.json")) {
            try reply(job: job, task: "deploy", round: 0, ok: false, error: refused.reason, payload: nil)
            clear()
            return
        }
        guard FileSystem.exists(path(PendingApproval.fileName)) else {
            clear()  // a request for a job that waits for nothing
            return
        }
        guard ApprovalDecision.allCases.contains(where: { FileSystem.exists(path($0.requestFile)) }) else { return }
        let pending = try JSONFile.read(PendingApproval.self, from: path(PendingApproval.fileName))
        if let request = try JSONFile.readIfPresent(ApprovalRequest.self, from: path(ApprovalDecision.reject.requestFile)) {
            let why = request.reason.flatMap { $0.isEmpty ? nil : ": \($0)" } ?? ""
            try refuse(job: job, reason: "rejected by the operator of \(workspace.name) (ferry reject)\(why)")
            clear()
            return
        }
        guard FileSystem.exists(path(ApprovalDecision.approve.requestFile)) else { return }
        do {
            let folder = try JobFolder.load(directory: path("job"), displayName: job, requireInitialModel: false)
            guard case .client(let config) = folder.apps[pending.app] else {
                throw RuntimeError.badMessage("the job has no client app '\(pending.app)'")
            }
            _ = try checkPolicy(job: job, folder: folder, app: pending.app, config: config)  // it may have changed since
            try completeDeployment(job: job, folder: folder, app: pending.app, config: config)
            log(job, "approved by this site's operator (ferry approve)")
        } catch where DiskSpace.isFull(error) {
            FileSystem.remove(path("deploy.json"))
            FileSystem.remove(path("plan.json"))
            throw error
        } catch {
            try refuse(job: job, reason: "\(error)")
        }
        clear()
    }
}
