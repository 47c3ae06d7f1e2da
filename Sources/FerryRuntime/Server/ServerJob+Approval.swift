import FerrySupport
import Foundation

/// A client whose policy says `approve: manual` answers a deployment only once its operator decided;
/// meanwhile it sends a `pending` notice, so the job's status says what it waits for and a deployment
/// that times out says why.
extension ServerJob {
    /// `runtime/deploy/<site>.pending`: the site said the job waits for its operator's approval.
    func approvalMarkerPath(_ site: String) -> String { FileSystem.join(runtimeDirectory, "deploy/\(site).pending") }

    /// Records a client's notice that the deployment waits for approval there.
    func clientAwaitsApproval(site: String) throws {
        guard state.phase == .deploying, state.plan.sites.contains(site), !FileSystem.exists(deployOutcomePath(site)),
              !FileSystem.exists(approvalMarkerPath(site)) else { return }
        try FileSystem.makeDirectory(FileSystem.join(runtimeDirectory, "deploy"))
        try JSONFile.write(["site": site, "since": Timestamp.string(Date())], to: approvalMarkerPath(site))
        logger.info("waiting for approval at \(site): its policy asks its operator to run `ferry approve` or `ferry reject`")
        try store.update(id) { $0.sites[site] = "waiting for approval" }
    }

    /// Whether `site` said the job waits for its approval and has not answered since.
    func isWaitingForApproval(_ site: String) -> Bool {
        FileSystem.exists(approvalMarkerPath(site)) && !FileSystem.exists(deployOutcomePath(site))
    }

    /// The state shown for a site that did not accept the deployment by its deadline: `refused: REASON`,
    /// `not approved in time`, or `refused` when it did not answer at all.
    func unacceptedState(_ site: String, _ answer: ClientOutcome?) -> String {
        if let answer { return "refused: \(answer.error ?? "no reason given")" }
        return isWaitingForApproval(site) ? "not approved in time" : "refused"
    }

    /// Why `site` has no answer to the deployment when its time is up.
    func unansweredDeployment(_ site: String) -> String {
        let limit = DurationText.format(.milliseconds(Int64(state.plan.roundTimeout * 1000)))
        if isWaitingForApproval(site) {
            return "\(site): still waiting for approval at \(site) after \(limit) (round_timeout): its operator did not run `ferry approve` or `ferry reject`"
        }
        return "\(site): did not answer the deployment within \(limit)"
    }
}
