import FerryAggregation
import FerrySupport
import Foundation

/// `scaffold` (Karimireddy et al. 2020, option II): FedAvg's round, but each task carries the global
/// model x and the global control variate c in one ``ScaffoldBundle`` (the second payload, through the
/// same transfer and quantization), and each result carries the client's model yᵢ and the change of
/// its control variate Δcᵢ. ``ScaffoldUpdate`` steps x and c.
///
/// Restart-safe: round N's bundle is `runtime/round-N/scaffold-task.safetensors` (rebuilt when missing
/// and the task not yet queued); c after round N is `models/control-round-N.safetensors`, written
/// before the global model of round N (whose existence marks the round aggregated): a server killed
/// between the two redoes the step from round N−1's c and gets the same bytes.
struct ScaffoldWorkflow: ServerWorkflow {
    let rounds = FedAvgWorkflow()

    func startRound(_ job: ServerJob, now: Date) throws { try rounds.startRound(job, now: now) }
    func scheduledTask(_ job: ServerJob, site: String) -> String? { rounds.scheduledTask(job, site: site) }
    func currentTask(_ job: ServerJob) -> String { rounds.currentTask(job) }

    func collect(_ job: ServerJob, now: Date) throws -> Bool {
        let round = job.state.round
        let bundle = FileSystem.join(job.roundDirectory(round), "scaffold-task.safetensors")
        if !job.outbox.contains(job.taskMessageID(round: round)), !FileSystem.exists(bundle) {
            guard let model = job.previousGlobalModel(round) else {
                try job.finish(.failed, reason: "scaffold needs initial_model in the server app; fix app.yaml and submit again")
                return false
            }
            try FileSystem.makeDirectory(job.roundDirectory(round))
            var control = job.controlStatePath(round - 1)
            if round == 1 {
                control = FileSystem.join(job.roundDirectory(round), "control-zeros.safetensors")
                try ControlVariates.zeros(like: model, into: control)
            }
            try ScaffoldBundle.join(model: model, control: control, into: bundle)
            if round == 1 { FileSystem.remove(control) }
        }
        return try job.collectFedAvg(now: now, payload: bundle)
    }

    func finishRound(_ job: ServerJob) throws {
        let round = job.state.round
        guard let previous = job.previousGlobalModel(round) else {
            try job.finish(.failed, reason: "scaffold needs initial_model in the server app; fix app.yaml and submit again")
            return
        }
        let step = ScaffoldUpdate(serverLearningRate: job.state.plan.serverLearningRate ?? 1,
                                  totalClients: job.state.participants.count)
        try job.finishAveragedRound(round, workflow: .scaffold) { inputs, output in
            try step.apply(global: previous, control: round == 1 ? nil : job.controlStatePath(round - 1),
                           results: inputs, output: output, controlOutput: job.controlStatePath(round))
        }
    }
}

extension ServerJob {
    /// scaffold's global control variate c after `round`, beside the global model.
    func controlStatePath(_ round: Int) -> String {
        FileSystem.join(directory, "models/control-round-\(round).safetensors")
    }

    /// The global model round `round` starts from: the initial model in round 1.
    func previousGlobalModel(_ round: Int) -> String? {
        round == 1 ? state.plan.initialModel : globalModelPath(round - 1)
    }
}
