import FerryAggregation
import FerryJobs
import FerrySupport
import Foundation

/// `fedavg`: each round the global model is broadcast once (quantized once with the server app's
/// `filters.to_clients`) to every participating site; the results that arrive before the round
/// deadline are averaged, weighted by num_samples, streaming tensor by tensor. It also runs `fedprox`
/// (Li et al. 2020), whose clients add `mu/2·‖w − w_global‖²` to their loss: the server's part is only
/// to send `mu`, which ``JobPlan`` puts in the round config as `fedprox_mu`.
///
/// Persisted per round (restart-safe): the task message in the outbox (deterministic id), every
/// client's outcome in `runtime/round-NNNN/<site>.json`, the global model, the round record, and
/// finally `workflow.json`'s round counter — the commit point of a round.
public struct FedAvgWorkflow: Sendable {
    /// Weights of the clients in the average: num_samples, or equal weights when every client reports 0.
    public static func weights(numSamples: [Int]) -> [Double] {
        let total = numSamples.reduce(0, +)
        if total <= 0 { return numSamples.map { _ in 1.0 / Double(max(numSamples.count, 1)) } }
        return numSamples.map { Double($0) / Double(total) }
    }
}

extension FedAvgWorkflow: ServerWorkflow {
    func startRound(_ job: ServerJob, now: Date) throws {
        job.state.roundStartedAt = now
        job.state.deadline = now.addingTimeInterval(job.state.plan.roundTimeout)
        try job.save()
        job.logger.info("round \(job.state.round) of \(job.state.plan.rounds): sending the global model to \(job.state.participants.joined(separator: ", "))")
    }

    func scheduledTask(_ job: ServerJob, site: String) -> String? { currentTask(job) }

    /// The round's train task, or its evaluate task once the round's model is being evaluated.
    func currentTask(_ job: ServerJob) -> String {
        job.currentEvaluation?.currentItem?.task ?? job.taskName(round: job.state.round)
    }

    func collect(_ job: ServerJob, now: Date) throws -> Bool {
        if let phase = job.currentEvaluation { return try job.collectEvaluation(phase, now: now) }
        return try job.collectFedAvg(now: now)
    }

    func finishRound(_ job: ServerJob) throws {
        try job.finishAveragedRound(job.state.round, workflow: job.state.plan.workflow) { inputs, output in
            try job.aggregate(inputs, into: output)
        }
    }
}

extension ServerJob {
    /// fedavg's round: sends `payload` (default: the global model) to the participants, gathers their
    /// outcomes; true when the round can be finished.
    func collectFedAvg(now: Date, payload: String? = nil) throws -> Bool {
        let round = state.round
        try recordAbsentSites(state.participants, round: round, task: { _ in self.taskName(round: round) }, now: now)
        var outcomes: [String: ClientOutcome] = [:]
        for site in state.participants {
            if let o = try JSONFile.readIfPresent(ClientOutcome.self, from: outcomePath(round: round, site: site)) {
                outcomes[site] = o
            }
        }
        // A site absent when the round starts gets no task: a broadcast goes at the pace of its slowest inbox.
        let recipients = state.participants.filter { outcomes[$0]?.status != .absent }
        let input: String? = payload ?? (round == 1 ? state.plan.initialModel : globalModelPath(round - 1))
        if !recipients.isEmpty { try sendTask(round: round, step: nil, model: input, to: recipients) }

        let allIn = outcomes.count == state.participants.count
        let possible = state.participants.filter { outcomes[$0] == nil || outcomes[$0]!.status == .ok }.count
        if !allIn, try failIfMinClientsUnreachable(round: round, possible: possible, of: state.participants.count,
                                                   outcomes: state.participants.compactMap { outcomes[$0] }) {
            return false
        }
        guard allIn || now >= state.deadline ?? now else { return false }
        if !allIn, deadlineHeld(round: round, sites: state.participants.filter { outcomes[$0] == nil },
                                task: { _ in taskName(round: round) }) { return false }
        return true
    }

    /// Aggregates the inputs with the plan's aggregator (and norm bound) into `output`.
    func aggregate(_ inputs: [AggregationInput], into output: String) throws {
        let rule = state.plan.aggregation ?? .mean
        guard rule != .mean else {
            try StreamingAggregator().aggregate(inputs, into: output)
            return
        }
        let reference: String? = state.round == 1 ? state.plan.initialModel : globalModelPath(state.round - 1)
        let (_, scales) = try StreamingAggregator().aggregate(inputs, robust: rule, reference: reference, into: output)
        for (input, scale) in zip(inputs, scales) where scale < 1 {
            logger.warning("round \(state.round): the update of \(input.label) was scaled by \(formatFixed(scale, 4)) to max_update_norm")
        }
    }

    /// The end of a round that aggregates its results (fedavg, fedopt): time-outs, `min_clients`, the
    /// global model through `aggregate`, its evaluation (`evaluate_every`), the round record, the commit.
    func finishAveragedRound(_ round: Int, workflow: Workflow,
                             aggregate: (_ inputs: [AggregationInput], _ output: String) throws -> Void) throws {
        let outcomes = try recordTimeouts(round: round)
        let ok = state.participants.compactMap { outcomes[$0] }.filter { $0.status == .ok && $0.model != nil }
        if ok.count < state.plan.minClients {
            let problems = state.participants.compactMap { site -> (site: String, problem: String)? in
                guard let o = outcomes[site], o.status != .ok else { return nil }
                return (site, problemText(o))
            }
            try finish(.failed, reason: "round \(round): only \(ok.count) of \(state.participants.count) clients succeeded (min_clients \(state.plan.minClients)); " + SiteProblems.text(problems))
            return
        }
        let output = globalModelPath(round)
        if !FileSystem.exists(output) {
            try FileSystem.makeDirectory(FileSystem.join(directory, "models"))
            let weights = FedAvgWorkflow.weights(numSamples: ok.map { $0.numSamples ?? 0 })
            try aggregate(zip(ok, weights).map { AggregationInput(path: $0.model!, weight: $1, label: $0.site) }, output)
            logger.info("round \(round): aggregated \(ok.count) model(s) into models/global-round-\(round).safetensors")
        }
        var evaluation: RoundEvaluation? = nil
        if isEvaluationRound(round) {
            // The evaluation phase starts once the model exists; the round commits after it (collect).
            guard let phase = currentEvaluation else {
                try startEvaluation(round: round, items: [.init(label: "global", task: "eval-r" + Names.round(round), model: output)], now: Date())
                return
            }
            evaluation = try roundEvaluation(phase, round: round)
        }
        let aggregate = MetricsAverage.weighted(ok.map { MetricsAverage.Report(numSamples: $0.numSamples ?? 0, metrics: $0.metrics ?? [:]) })
        let (wire, source) = bytesToClient(taskMessageID(round: round))
        var clients: [String: RoundRecord.Client] = [:]
        for site in state.participants {
            let o = outcomes[site]!
            clients[site] = RoundRecord.Client(
                status: o.status.rawValue, numSamples: o.numSamples, metrics: o.metrics, durationSeconds: o.durationSeconds,
                error: o.error, bytesToClient: wire, bytesToClientUnquantized: source,
                bytesFromClient: o.bytesFromClient, bytesFromClientUnquantized: o.bytesFromClientUnquantized, position: nil)
        }
        let record = RoundRecord(round: round, workflow: workflow.rawValue, startedAt: state.roundStartedAt ?? Date(), finishedAt: Date(),
                                 clients: clients, aggregate: aggregate,
                                 globalModel: "models/global-round-\(round).safetensors", order: nil,
                                 notes: sendNotes([taskMessageID(round: round)]), evaluation: evaluation)
        let summary = aggregate.keys.sorted().map { "\($0)=\(formatFixed(aggregate[$0]!, 4))" }.joined(separator: " ")
        logger.info("round \(round) done: \(ok.count)/\(state.participants.count) clients \(summary)")
        if try commitRound(record, clients: ok.count, model: output) { return }
        state.round = round + 1
        state.roundStartedAt = nil
        state.deadline = nil
        state.pausedTasks = nil
        try save()
        releaseRound(round)
    }
}
