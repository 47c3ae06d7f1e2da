import FerrySupport
import Foundation

/// `cyclic`: the model travels site to site; each round visits every participating site once, in a
/// fixed order (the federation's order) or shuffled per round from `seed`. A site that fails or times
/// out is skipped (the model passes on unchanged); a round with fewer than `min_clients` successes
/// fails the job.
public struct CyclicWorkflow: Sendable {
    /// The order of `sites` in round `round` (1-based).
    public static func order(sites: [String], round: Int, shuffle: Bool, seed: UInt64) -> [String] {
        guard shuffle else { return sites }
        var rng = SplitMix64(seed: seed &+ UInt64(truncatingIfNeeded: round) &* 0x9E37_79B9_7F4A_7C15)
        var out = sites
        if out.count > 1 {
            for i in stride(from: out.count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                out.swapAt(i, j)
            }
        }
        return out
    }
}


/// Cyclic's state is `order`, `step` and `currentModel` of ``ServerJobState`` (kept there so that
/// `workflow.json` files of earlier versions resume unchanged).
extension CyclicWorkflow: ServerWorkflow {
    func startRound(_ job: ServerJob, now: Date) throws {
        let round = job.state.round
        job.state.roundStartedAt = now
        job.state.order = Self.order(sites: job.state.participants, round: round,
                                     shuffle: job.state.plan.order == "shuffle", seed: job.state.plan.seed)
        job.state.step = 0
        job.state.deadline = nil
        try job.save()
        job.logger.info("round \(round) of \(job.state.plan.rounds): order \(job.state.order.joined(separator: " → "))")
    }

    /// The task of the site's step; nil once its step has passed (or when it is not in the round).
    func scheduledTask(_ job: ServerJob, site: String) -> String? {
        guard let step = job.state.order.firstIndex(of: site), step >= job.state.step else { return nil }
        return job.taskName(round: job.state.round, step: step)
    }

    func currentTask(_ job: ServerJob) -> String {
        let state = job.state
        return job.taskName(round: state.round, step: state.step < state.order.count ? state.step : nil)
    }

    func collect(_ job: ServerJob, now: Date) throws -> Bool { try job.collectCyclic(now: now) }

    func finishRound(_ job: ServerJob) throws { try job.finishCyclicRound(job.state.round) }
}

extension ServerJob {
    fileprivate func collectCyclic(now: Date) throws -> Bool {
        let round = state.round
        while state.step < state.order.count {
            let site = state.order[state.step]
            if state.deadline == nil {
                state.deadline = now.addingTimeInterval(state.plan.roundTimeout)
                try save()
            }
            let path = outcomePath(round: round, site: site)
            if try !recordAbsentSites([site], round: round, task: { _ in self.taskName(round: round, step: self.state.step) }, now: now).isEmpty,
               try failIfCyclicRoundLost(round) {
                return false
            }
            var outcome = try JSONFile.readIfPresent(ClientOutcome.self, from: path)
            // A site with an outcome already (one removed from the federation, say) gets no task.
            if outcome == nil { try sendTask(round: round, step: state.step, model: state.currentModel, to: [site]) }
            if outcome == nil {
                guard now >= state.deadline! else { return false }
                let step = state.step
                if deadlineHeld(round: round, sites: [site], task: { _ in taskName(round: round, step: step) }) { return false }
                let timeout = ClientOutcome(site: site, task: taskName(round: round, step: state.step), round: round, status: .timeout,
                                            error: "no result within the round timeout", receivedAt: Date())
                try FileSystem.makeDirectory(roundDirectory(round))
                try JSONFile.write(timeout, to: path)
                try store.update(id) { $0.sites[site] = "timed out round \(round)" }
                logger.warning("round \(round): \(site) timed out; the model passes on unchanged")
                outcome = timeout
            }
            if outcome!.status == .ok, let model = outcome!.model {
                state.currentModel = model
            }
            state.step += 1
            state.deadline = nil
            try save()
        }
        return true
    }

    /// After a site of the round was found absent: fails the job when the successes so far plus the
    /// steps still to come cannot reach `min_clients`.
    private func failIfCyclicRoundLost(_ round: Int) throws -> Bool {
        var outcomes: [ClientOutcome] = []
        for site in state.order[...state.step] {
            if let o = try JSONFile.readIfPresent(ClientOutcome.self, from: outcomePath(round: round, site: site)) { outcomes.append(o) }
        }
        let possible = outcomes.filter { $0.status == .ok }.count + (state.order.count - state.step - 1)
        let needed = min(state.plan.minClients, state.order.count)
        guard possible < needed else { return false }
        return try failIfMinClientsUnreachable(round: round, possible: possible, of: state.order.count, outcomes: outcomes)
    }

    fileprivate func finishCyclicRound(_ round: Int) throws {
        var clients: [String: RoundRecord.Client] = [:]
        var ok: [ClientOutcome] = []
        var problems: [(site: String, problem: String)] = []
        for (index, site) in state.order.enumerated() {
            guard let o = try JSONFile.readIfPresent(ClientOutcome.self, from: outcomePath(round: round, site: site)) else { continue }
            if o.status == .ok {
                ok.append(o)
            } else {
                problems.append((site, o.status == .absent ? problemText(o) : "\(o.status.rawValue): \(o.error ?? "")"))
            }
            let (wire, source) = bytesToClient(taskMessageID(round: round, step: index))
            clients[site] = RoundRecord.Client(
                status: o.status.rawValue, numSamples: o.numSamples, metrics: o.metrics, durationSeconds: o.durationSeconds,
                error: o.error, bytesToClient: wire, bytesToClientUnquantized: source,
                bytesFromClient: o.bytesFromClient, bytesFromClientUnquantized: o.bytesFromClientUnquantized, position: index + 1)
        }
        if ok.count < min(state.plan.minClients, state.order.count) || ok.isEmpty {
            try finish(.failed, reason: "round \(round): only \(ok.count) of \(state.order.count) sites succeeded (min_clients \(state.plan.minClients)); " + SiteProblems.text(problems))
            return
        }
        let output = globalModelPath(round)
        if !FileSystem.exists(output), let model = state.currentModel {
            try FileSystem.makeDirectory(FileSystem.join(directory, "models"))
            try copyModel(from: model, to: output)
        }
        // The last successful site's metrics describe the model after the round.
        let aggregate = ok.last?.metrics ?? [:]
        let record = RoundRecord(round: round, workflow: "cyclic", startedAt: state.roundStartedAt ?? Date(), finishedAt: Date(),
                                 clients: clients, aggregate: aggregate,
                                 globalModel: "models/global-round-\(round).safetensors", order: state.order,
                                 notes: sendNotes(state.order.indices.map { taskMessageID(round: round, step: $0) }))
        logger.info("round \(round) done: \(ok.count)/\(state.order.count) sites")
        if try commitRound(record, clients: ok.count, model: output) { return }
        state.round = round + 1
        state.roundStartedAt = nil
        state.order = []
        state.step = 0
        state.currentModel = output
        state.pausedTasks = nil
        try save()
        releaseRound(round)
    }
}
