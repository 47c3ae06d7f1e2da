import FerryAggregation
import FerryExecutor
import FerrySupport
import Foundation

/// `runtime/round-NNNN/evaluation.json`: an evaluation phase of a round (`evaluate_every`, or
/// cross-site-eval's matrix). Written before its first task goes, rewritten when it moves to its next
/// model: a restarted server resumes at the same model with the same deadline.
struct EvaluationPhase: Codable, Sendable, Equatable {
    /// One model every site evaluates.
    struct Item: Codable, Sendable, Equatable {
        /// The model's name in records: `global`, or the site that submitted it.
        var label: String
        /// The evaluate task (`eval-r0003`, `eval-site-1`); its outcomes go to `round-NNNN/<task>/<site>.json`.
        var task: String
        /// The model file (absolute path).
        var model: String
    }

    var startedAt: Date
    /// The models, evaluated one after another (a site holds one model to evaluate at a time).
    var items: [Item]
    /// Index of the model under evaluation; `items.count` once every one is done.
    var current: Int
    /// When the current model's results are due.
    var deadline: Date

    var currentItem: Item? { current < items.count ? items[current] : nil }
}

extension ServerJob {
    func evaluationPhasePath(_ round: Int) -> String { FileSystem.join(roundDirectory(round), "evaluation.json") }

    func evaluationOutcomePath(round: Int, task: String, site: String) -> String {
        FileSystem.join(roundDirectory(round), task, "\(site).json")
    }

    /// The evaluation phase of the current round, when one started.
    var currentEvaluation: EvaluationPhase? {
        try? JSONFile.readIfPresent(EvaluationPhase.self, from: evaluationPhasePath(state.round))
    }

    /// Whether round `round` ends with every site evaluating its global model (`evaluate_every`).
    func isEvaluationRound(_ round: Int) -> Bool {
        guard let every = state.plan.evaluateEvery, every > 0 else { return false }
        return round % every == 0
    }

    /// Whether evaluate tasks follow the last round's train task (the sites keep the job after it).
    var evaluationFollowsLastRound: Bool {
        state.plan.workflow == .crossSiteEval || isEvaluationRound(state.plan.rounds)
    }

    /// Starts the evaluation of `items` in round `round` (persisted before any task goes).
    func startEvaluation(round: Int, items: [EvaluationPhase.Item], now: Date) throws {
        let phase = EvaluationPhase(startedAt: now, items: items, current: 0, deadline: now.addingTimeInterval(state.plan.roundTimeout))
        try FileSystem.makeDirectory(roundDirectory(round))
        try JSONFile.write(phase, to: evaluationPhasePath(round))
        logger.info("round \(round): every site evaluates \(items.map(\.label).joined(separator: ", "))")
    }

    /// Where a result for `task` from `site` goes during `phase`: the current model's task only.
    func evaluationOutcomePath(_ phase: EvaluationPhase, task: String, site: String) -> String? {
        guard let item = phase.currentItem, item.task == task else { return nil }
        return evaluationOutcomePath(round: state.round, task: task, site: site)
    }

    /// Sends the current model's evaluate task and gathers its outcomes; moves on to the next model once
    /// every site answered, was found absent or ran past the deadline. True when every model is done.
    /// A site that fails an evaluation is recorded, never fails the job.
    func collectEvaluation(_ start: EvaluationPhase, now: Date) throws -> Bool {
        let round = state.round
        var phase = start
        while let item = phase.currentItem {
            let path = { (site: String) in self.evaluationOutcomePath(round: round, task: item.task, site: site) }
            for site in state.participants where !FileSystem.exists(path(site)) {
                guard let absence = liveness?.absence(of: site, now: now) else { continue }
                try record(ClientOutcome(site: site, task: item.task, round: round, status: .absent, error: absence, receivedAt: Date()), at: path(site))
                logger.warning("round \(round): \(site) is \(absence); not waiting for its evaluation of \(item.label)")
            }
            let waiting = state.participants.filter { !FileSystem.exists(path($0)) }
            if !waiting.isEmpty {
                let last = phase.current == phase.items.count - 1 && round >= state.plan.rounds
                try sendTask(named: item.task, round: round, model: item.model, kind: .evaluate, last: last, to: waiting)
                guard now >= phase.deadline, !deadlineHeld(round: round, sites: waiting, task: { _ in item.task }) else { return false }
                let limit = DurationText.format(.milliseconds(Int64(state.plan.roundTimeout * 1000)))
                for site in waiting {
                    try record(ClientOutcome(site: site, task: item.task, round: round, status: .timeout,
                                             error: "no evaluation result within the round timeout (\(limit))", receivedAt: Date()), at: path(site))
                    logger.warning("round \(round): \(site) did not evaluate \(item.label) in time")
                }
            }
            phase.current += 1
            phase.deadline = now.addingTimeInterval(state.plan.roundTimeout)
            try JSONFile.write(phase, to: evaluationPhasePath(round))
        }
        return true
    }

    private func record(_ outcome: ClientOutcome, at path: String) throws {
        try FileSystem.makeDirectory((path as NSString).deletingLastPathComponent)
        try JSONFile.write(outcome, to: path)
    }

    /// Every participant's result for `item` (a site without an outcome reads as a time-out).
    func evaluationResults(_ item: EvaluationPhase.Item, round: Int) throws -> [String: EvaluationResult] {
        var results: [String: EvaluationResult] = [:]
        for site in state.participants {
            let path = evaluationOutcomePath(round: round, task: item.task, site: site)
            if let outcome = try JSONFile.readIfPresent(ClientOutcome.self, from: path) {
                results[site] = EvaluationResult(outcome)
            } else {
                results[site] = EvaluationResult(status: ClientOutcome.Status.timeout.rawValue, error: "no evaluation result")
            }
        }
        return results
    }

    /// The round record's evaluation of a finished phase of one model.
    func roundEvaluation(_ phase: EvaluationPhase, round: Int) throws -> RoundEvaluation? {
        guard let item = phase.items.first else { return nil }
        let sites = try evaluationResults(item, round: round)
        let ok = sites.values.filter { $0.status == "ok" }
        let aggregate = MetricsAverage.weighted(ok.map { MetricsAverage.Report(numSamples: $0.numSamples ?? 0, metrics: $0.metrics ?? [:]) })
        return RoundEvaluation(startedAt: phase.startedAt, finishedAt: Date(), sites: sites, aggregate: aggregate)
    }

    /// Records a time-out for every participant without an outcome for round `round`'s task.
    /// - Returns: the outcomes of every participant, by site.
    func recordTimeouts(round: Int) throws -> [String: ClientOutcome] {
        var outcomes: [String: ClientOutcome] = [:]
        for site in state.participants {
            if let o = try JSONFile.readIfPresent(ClientOutcome.self, from: outcomePath(round: round, site: site)) {
                outcomes[site] = o
            }
        }
        for site in state.participants where outcomes[site] == nil {
            let timeout = ClientOutcome(site: site, task: taskName(round: round), round: round, status: .timeout,
                                        error: "no result within the round timeout (\(DurationText.format(.milliseconds(Int64(state.plan.roundTimeout * 1000)))))",
                                        receivedAt: Date())
            try record(timeout, at: outcomePath(round: round, site: site))
            outcomes[site] = timeout
            logger.warning("round \(round): \(site) timed out")
            try store.update(id) { $0.sites[site] = "timed out round \(round)" }
        }
        return outcomes
    }
}
