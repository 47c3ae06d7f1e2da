import FerrySupport
import FerryWorkspace

/// A client's answers to changes of the federation file (docs/deployment.md).
extension ClientRole {
    func workspaceChanged(_ workspace: SiteWorkspace) {
        self.workspace = workspace
    }

    /// This site was removed from the federation: every job not over here stops at once (its
    /// executors are killed, its unsent results dropped), with `reason` in the watcher's and the job's
    /// logs. Idempotent: a job stopped once is skipped.
    func siteRevoked(_ reason: String) {
        for job in FileSystem.list(workspace.jobsDirectory) where !job.hasPrefix(".") {
            let dir = jobDirectory(job)
            guard FileSystem.exists(FileSystem.join(dir, "deploy.json")), endedAt(job) == nil else { continue }
            abort(job, reason: reason, stoppedBy: "this site's removal from the federation")
        }
    }
}
