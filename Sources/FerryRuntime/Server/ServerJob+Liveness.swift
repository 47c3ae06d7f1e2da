import FerrySupport
import Foundation

/// Sites that stopped writing heartbeats (docs/runtime.md, "Liveness"): a round records them `absent`
/// instead of waiting for them until `round_timeout`, goes on without them while `min_clients` can still
/// be met, and fails at once when it cannot.
extension ServerJob {
    /// Records an `absent` outcome for every site of `sites` that has none yet and whose heartbeat has
    /// been silent longer than the grace period.
    /// - Returns: the sites recorded now.
    @discardableResult
    func recordAbsentSites(_ sites: [String], round: Int, task: (String) -> String, now: Date) throws -> [String] {
        guard let liveness else { return [] }
        var recorded: [String] = []
        for site in sites where !FileSystem.exists(outcomePath(round: round, site: site)) {
            guard let absence = liveness.absence(of: site, now: now) else { continue }
            let outcome = ClientOutcome(site: site, task: task(site), round: round, status: .absent, error: absence, receivedAt: Date())
            try FileSystem.makeDirectory(roundDirectory(round))
            try JSONFile.write(outcome, to: outcomePath(round: round, site: site))
            try store.update(id) { $0.sites[site] = "absent round \(round): \(absence)" }
            logger.warning("round \(round): \(site) is \(absence); not waiting for it")
            recorded.append(site)
        }
        return recorded
    }

    /// What the job is doing, for the server's heartbeat: `deploy`, or the current round's task.
    var currentTask: Heartbeat.Task {
        switch state.phase {
        case .deploying: return Heartbeat.Task(job: id, round: 0, task: "deploy")
        case .running, .finished:
            return Heartbeat.Task(job: id, round: state.round, task: ServerWorkflows.make(state.plan).currentTask(self))
        }
    }

    /// How a site's outcome reads in a failed round's reason.
    func problemText(_ outcome: ClientOutcome) -> String {
        switch outcome.status {
        case .absent: return outcome.error ?? "not seen"
        case .timeout: return "timed out: \(outcome.error ?? "no reason given")"
        case .ok, .failed: return "failed: \(outcome.error ?? "no reason given")"
        }
    }

    /// Fails the job when a site was found absent and the sites that can still answer are too few for
    /// `min_clients`; `possible` counts the successes so far plus the sites still awaited.
    /// - Returns: true when the job failed.
    func failIfMinClientsUnreachable(round: Int, possible: Int, of total: Int, outcomes: [ClientOutcome]) throws -> Bool {
        guard outcomes.contains(where: { $0.status == .absent }), possible < state.plan.minClients else { return false }
        let problems = outcomes.filter { $0.status != .ok }.map { (site: $0.site, problem: problemText($0)) }
        try finish(.failed, reason: "round \(round): only \(possible) of \(total) clients can still succeed (min_clients \(state.plan.minClients)); "
                   + SiteProblems.text(problems))
        return true
    }
}
