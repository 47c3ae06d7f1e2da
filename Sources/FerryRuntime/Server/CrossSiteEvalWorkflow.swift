import FerryAggregation
import FerryExecutor
import FerryJobs
import FerrySupport
import Foundation

/// `cross-site-eval`, as NVFlare's cross-site model evaluation: the job's one round has two phases.
///
/// 1. Submit (unless `local_models: none`): every site runs one train task from the global model
///    (`initial_model`, or none); the model it returns is its local model (an executor may train, or
///    send a model it trained before). Collected as a fedavg round, nothing aggregated.
/// 2. Evaluate: every site evaluates the global model, then every submitted local model, one model at
///    a time (``EvaluationPhase``); each model has `round_timeout`.
///
/// The result is the site × model matrix `cross_site_eval.json` in the job folder (``CrossSiteEvalMatrix``);
/// a site that fails, times out or is absent leaves its cells missing with the reason. The global model
/// is published as the final model. Restart-safe: the train outcomes, `evaluation.json` and each
/// evaluation outcome are files of `runtime/round-0001/`.
struct CrossSiteEvalWorkflow: ServerWorkflow {
    let submission = FedAvgWorkflow()

    func startRound(_ job: ServerJob, now: Date) throws { try submission.startRound(job, now: now) }

    func scheduledTask(_ job: ServerJob, site: String) -> String? { currentTask(job) }

    func currentTask(_ job: ServerJob) -> String { submission.currentTask(job) }

    func collect(_ job: ServerJob, now: Date) throws -> Bool {
        if let phase = job.currentEvaluation { return try job.collectEvaluation(phase, now: now) }
        let round = job.state.round
        var items: [EvaluationPhase.Item] = []
        if let global = job.state.plan.initialModel {
            items.append(.init(label: CrossSiteEvalMatrix.globalModel, task: "eval-" + CrossSiteEvalMatrix.globalModel, model: global))
        }
        if job.state.plan.localModels != false {
            guard try submission.collect(job, now: now), !job.isFinished else { return false }
            let outcomes = try job.recordTimeouts(round: round)
            for site in job.state.participants {
                guard let outcome = outcomes[site], outcome.status == .ok, let model = outcome.model else { continue }
                items.append(.init(label: site, task: "eval-" + site, model: model))
            }
        }
        guard !items.isEmpty else {
            try job.finish(.failed, reason: "cross-site-eval: no model to evaluate: no site submitted a local model and the job has no initial_model; "
                           + SiteProblems.text(try job.submissionProblems()))
            return false
        }
        try job.startEvaluation(round: round, items: items, now: now)
        return false
    }

    func finishRound(_ job: ServerJob) throws {
        let round = job.state.round
        guard let phase = job.currentEvaluation else { return }
        let submissions = job.state.plan.localModels == false ? [:] : try job.recordTimeouts(round: round)
        let matrix = try job.crossSiteMatrix(phase, submissions: submissions)
        try JSONFile.write(matrix, to: FileSystem.join(job.directory, CrossSiteEvalMatrix.fileName))
        let (wire, source) = job.bytesToClient(job.taskMessageID(round: round))
        var clients: [String: RoundRecord.Client] = [:]
        for site in job.state.participants {
            if let o = submissions[site] {
                clients[site] = RoundRecord.Client(
                    status: o.status.rawValue, numSamples: o.numSamples, metrics: o.metrics, durationSeconds: o.durationSeconds,
                    error: o.error, bytesToClient: wire, bytesToClientUnquantized: source,
                    bytesFromClient: o.bytesFromClient, bytesFromClientUnquantized: o.bytesFromClientUnquantized, position: nil)
            } else if let e = matrix.results[site]?[CrossSiteEvalMatrix.globalModel] {
                // `local_models: none`: the site's part is its evaluation of the global model.
                clients[site] = RoundRecord.Client(
                    status: e.status, numSamples: e.numSamples, metrics: e.metrics, durationSeconds: e.durationSeconds, error: e.error,
                    bytesToClient: 0, bytesToClientUnquantized: 0, bytesFromClient: 0, bytesFromClientUnquantized: 0, position: nil)
            }
        }
        // The round's figure: the global model's evaluation averaged over the sites (the local
        // training's metrics when there is no global model).
        let globalColumn = matrix.column(CrossSiteEvalMatrix.globalModel)
        let reports = (globalColumn.isEmpty ? submissions.values.filter { $0.status == .ok }.map { ($0.numSamples, $0.metrics) }
                                            : globalColumn.filter { $0.status == "ok" }.map { ($0.numSamples, $0.metrics) })
        let aggregate = MetricsAverage.weighted(reports.map { MetricsAverage.Report(numSamples: $0.0 ?? 0, metrics: $0.1 ?? [:]) })
        let record = RoundRecord(round: round, workflow: Workflow.crossSiteEval.rawValue, startedAt: job.state.roundStartedAt ?? phase.startedAt,
                                 finishedAt: Date(), clients: clients, aggregate: aggregate,
                                 globalModel: job.state.plan.initialModel == nil ? "" : "models/final.safetensors", order: nil,
                                 notes: job.sendNotes([job.taskMessageID(round: round)] + phase.items.map { "\(job.id).task.\($0.task)" }))
        job.logger.info("cross-site-eval done: \(matrix.sites.count) site(s) × \(matrix.models.count) model(s), \(matrix.okCount) of \(matrix.sites.count * matrix.models.count) results")
        _ = try job.commitRound(record, clients: matrix.okCount, model: job.state.plan.initialModel)
    }
}

extension ServerJob {
    /// The site × model matrix of a finished evaluation phase; sites whose submission failed are
    /// columns whose every cell is `missing` with the reason.
    func crossSiteMatrix(_ phase: EvaluationPhase, submissions: [String: ClientOutcome]) throws -> CrossSiteEvalMatrix {
        var models: [CrossSiteEvalMatrix.Model] = []
        var results: [String: [String: EvaluationResult]] = [:]
        for site in state.participants { results[site] = [:] }
        var columns = phase.items.map(\.label)
        if state.plan.initialModel != nil, !columns.contains(CrossSiteEvalMatrix.globalModel) { columns.insert(CrossSiteEvalMatrix.globalModel, at: 0) }
        for site in state.participants where state.plan.localModels != false && !columns.contains(site) { columns.append(site) }
        for label in columns {
            let isGlobal = label == CrossSiteEvalMatrix.globalModel && state.plan.initialModel != nil
            if let item = phase.items.first(where: { $0.label == label }) {
                models.append(.init(name: label, source: isGlobal ? "global" : "local", status: "ok", error: nil))
                for (site, result) in try evaluationResults(item, round: state.round) { results[site]?[label] = result }
            } else {
                let outcome = submissions[label]
                let reason = "\(label) submitted no local model: " + (outcome.map(problemText) ?? "no result")
                models.append(.init(name: label, source: "local", status: outcome?.status.rawValue ?? "timeout", error: reason))
                for site in state.participants { results[site]?[label] = EvaluationResult(status: "missing", error: reason) }
            }
        }
        return CrossSiteEvalMatrix(job: id, createdAt: Date(), sites: state.participants, models: models, results: results)
    }

    /// Each site's problem with its train task of the current round (for a failed cross-site-eval).
    func submissionProblems() throws -> [(site: String, problem: String)] {
        try state.participants.compactMap { site in
            guard let o = try JSONFile.readIfPresent(ClientOutcome.self, from: outcomePath(round: state.round, site: site)), o.status != .ok else { return nil }
            return (site, problemText(o))
        }
    }
}
