import FerrySupport
import Foundation

extension ServerJob {
    static let removedReason = "removed from the federation (ferry federation remove)"

    /// Stops waiting for sites removed from the federation: a pending deployment answer or result
    /// becomes a failure with the reason, and from the next round on they are no longer participants.
    /// The round goes on with the others if `min_clients` allows, else the job fails saying why.
    func dropRemoved(_ removed: Set<String>) throws {
        guard !isFinished, !removed.isEmpty else { return }
        switch state.phase {
        case .deploying:
            for site in state.plan.sites where removed.contains(site) && !FileSystem.exists(deployOutcomePath(site)) {
                try FileSystem.makeDirectory(FileSystem.join(runtimeDirectory, "deploy"))
                try JSONFile.write(ClientOutcome(site: site, task: "deploy", round: 0, status: .failed,
                                                 error: Self.removedReason, receivedAt: Date()), to: deployOutcomePath(site))
                try markRemoved(site)
            }
        case .running:
            let gone = state.participants.filter(removed.contains)
            guard !gone.isEmpty else { return }
            if state.roundStartedAt == nil {
                state.participants.removeAll(where: removed.contains)
                try save()
                for site in gone { try markRemoved(site) }
                if state.participants.count < state.plan.minClients {
                    try finish(.failed, reason: "round \(state.round): \(gone.joined(separator: ", ")) \(gone.count == 1 ? "was" : "were") removed from the federation; only \(state.participants.count) client(s) remain (min_clients \(state.plan.minClients))")
                }
                return
            }
            let round = state.round
            let workflow = ServerWorkflows.make(state.plan)
            for site in gone where !FileSystem.exists(outcomePath(round: round, site: site)) {
                guard let task = workflow.scheduledTask(self, site: site) else { continue }
                try FileSystem.makeDirectory(roundDirectory(round))
                try JSONFile.write(ClientOutcome(site: site, task: task, round: round, status: .failed,
                                                 error: Self.removedReason, receivedAt: Date()), to: outcomePath(round: round, site: site))
                try markRemoved(site)
            }
        case .finished:
            return
        }
    }

    private func markRemoved(_ site: String) throws {
        logger.warning("\(site): \(Self.removedReason); not waiting for it")
        try store.update(id) { $0.sites[site] = "removed" }
    }
}
