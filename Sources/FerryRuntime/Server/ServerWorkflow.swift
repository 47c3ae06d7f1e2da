import FerryJobs
import Foundation

/// A server strategy: how the rounds of a job run. ``ServerJob`` drives the job's phases (deploy,
/// rounds, end) and asks its workflow for each step of a round:
///
/// 1. ``startRound(_:now:)`` once, when the round's state is fresh (`roundStartedAt == nil`);
/// 2. ``scheduledTask(_:site:)`` and ``currentTask(_:)``: which results the round expects;
/// 3. ``collect(_:now:)`` on every pass: sends the round's tasks, records time-outs, and says when the
///    round can be finished;
/// 4. ``finishRound(_:)``: aggregates, writes the round record and commits the round
///    (``ServerJob/commitRound(_:clients:model:)``).
///
/// Every step persists what it decided before the next starts (``ServerJob/save()``), so a
/// restarted server resumes the round. A workflow's own state lives in ``ServerJobState`` (cyclic:
/// `order`, `step`, `currentModel`) or in files of the job folder (fedopt: the optimizer state beside
/// the global model; scaffold: the control variate c there too). Adding a workflow: a case of ``Workflow`` (FerryJobs, the `workflow:` word of
/// `app.yaml`), one file with a conforming type, and its line in ``ServerWorkflows/make(_:)``.
protocol ServerWorkflow: Sendable {
    /// Starts the job's current round (`job.state.round`).
    func startRound(_ job: ServerJob, now: Date) throws
    /// The task the current round gives (or will give) `site`; nil when it expects nothing more of it.
    func scheduledTask(_ job: ServerJob, site: String) -> String?
    /// The task under way now (the round's, or the current step's); results for other tasks are late.
    func currentTask(_ job: ServerJob) -> String
    /// Sends the round's tasks and gathers its outcomes; true when the round is ready to finish.
    /// Returns false after ending the job (``ServerJob/finish(_:reason:)``).
    func collect(_ job: ServerJob, now: Date) throws -> Bool
    /// Aggregates the round and commits it.
    func finishRound(_ job: ServerJob) throws
    /// Where the outcome of `site`'s result for `task` goes, when the job awaits it now; nil for a
    /// late or unexpected result. The default: during an evaluation phase of the round
    /// (``EvaluationPhase``) the current model's evaluate task; otherwise the current round's
    /// `<site>.json` for the task that ``scheduledTask(_:site:)`` and ``currentTask(_:)`` both name.
    func outcomePath(_ job: ServerJob, task: String, site: String) -> String?
}

extension ServerWorkflow {
    func outcomePath(_ job: ServerJob, task: String, site: String) -> String? {
        if let phase = job.currentEvaluation { return job.evaluationOutcomePath(phase, task: task, site: site) }
        return roundOutcomePath(job, task: task, site: site)
    }

    /// The default of ``outcomePath(_:task:site:)``, for workflows that change it only in some phases.
    func roundOutcomePath(_ job: ServerJob, task: String, site: String) -> String? {
        guard scheduledTask(job, site: site) == task, currentTask(job) == task else { return nil }
        return job.outcomePath(round: job.state.round, site: site)
    }
}

/// The registry of server workflows.
enum ServerWorkflows {
    /// The workflow that runs a plan's `workflow:`.
    static func make(_ plan: JobPlan) -> any ServerWorkflow {
        switch plan.workflow {
        case .fedavg: return FedAvgWorkflow()
        case .cyclic: return CyclicWorkflow()
        case .fedopt: return FedOptWorkflow()
        // fedprox differs from fedavg only in its round config (JobPlan adds `fedprox_mu`).
        case .fedprox: return FedAvgWorkflow()
        case .scaffold: return ScaffoldWorkflow()
        case .crossSiteEval: return CrossSiteEvalWorkflow()
        }
    }
}
