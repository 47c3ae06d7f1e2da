import FerryAggregation
import FerrySupport
import Foundation

/// `fedopt`: FedAvg's round (broadcast, collect, aggregate with the plan's aggregator), then the
/// plan's ``ServerOptimizer`` steps from the previous global model along the aggregated update
/// (both in one streaming pass over the clients' results).
///
/// Restart-safe: the optimizer state of round N goes to `models/optimizer-round-N.safetensors`
/// before the global model of round N (whose existence marks the round aggregated); a server killed
/// between the two redoes the step from round N−1's state and gets the same bytes.
struct FedOptWorkflow: ServerWorkflow {
    let rounds = FedAvgWorkflow()

    func startRound(_ job: ServerJob, now: Date) throws { try rounds.startRound(job, now: now) }
    func scheduledTask(_ job: ServerJob, site: String) -> String? { rounds.scheduledTask(job, site: site) }
    func currentTask(_ job: ServerJob) -> String { rounds.currentTask(job) }
    func collect(_ job: ServerJob, now: Date) throws -> Bool { try rounds.collect(job, now: now) }

    func finishRound(_ job: ServerJob) throws {
        let round = job.state.round
        guard let optimizer = job.state.plan.serverOptimizer,
              let previous = round == 1 ? job.state.plan.initialModel : job.globalModelPath(round - 1) else {
            try job.finish(.failed, reason: "fedopt needs server_optimizer and initial_model in the server app; fix app.yaml and submit again")
            return
        }
        try job.finishAveragedRound(round, workflow: .fedopt) { inputs, output in
            // One pass: the aggregate is stepped slice by slice, never written as a model of its own.
            let (_, scales) = try optimizer.step(clients: inputs, aggregation: job.state.plan.aggregation ?? .mean,
                                                 previous: previous, state: round == 1 ? nil : job.optimizerStatePath(round - 1),
                                                 output: output, stateOutput: job.optimizerStatePath(round))
            for (input, scale) in zip(inputs, scales) where scale < 1 {
                job.logger.warning("round \(round): the update of \(input.label) was scaled by \(formatFixed(scale, 4)) to max_update_norm")
            }
        }
    }
}

extension ServerJob {
    /// fedopt's optimizer state after `round`, beside the global model.
    func optimizerStatePath(_ round: Int) -> String {
        FileSystem.join(directory, "models/optimizer-round-\(round).safetensors")
    }
}
