import Foundation

/// `fedprox` (Li et al., "Federated Optimization in Heterogeneous Networks", 2020): FedAvg's round and
/// aggregation (with the plan's aggregator) unchanged. What differs is the clients' objective: each
/// adds `mu/2·‖w − w_global‖²` to its loss. The server sends `mu` in every round's config as
/// `fedprox_mu` (``JobPlan`` adds it to `round_config`); ferry's Python package gives trainers the term
/// (`ferry.fedprox`).
struct FedProxWorkflow: ServerWorkflow {
    let rounds = FedAvgWorkflow()

    func startRound(_ job: ServerJob, now: Date) throws { try rounds.startRound(job, now: now) }
    func scheduledTask(_ job: ServerJob, site: String) -> String? { rounds.scheduledTask(job, site: site) }
    func currentTask(_ job: ServerJob) -> String { rounds.currentTask(job) }
    func collect(_ job: ServerJob, now: Date) throws -> Bool { try rounds.collect(job, now: now) }

    func finishRound(_ job: ServerJob) throws {
        try job.finishAveragedRound(job.state.round, workflow: .fedprox) { inputs, output in
            try job.aggregate(inputs, into: output)
        }
    }
}
