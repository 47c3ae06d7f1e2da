import ArgumentParser
import FerryRuntime
import FerrySupport

/// `ferry approve ID`: the site's operator lets a pending job run.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Let a job waiting for this site's approval run.",
        discussion: """
        Writes jobs/<id>/approve.request in the client's workspace ({"by": "cli", "requested_at": …}). The \
        site's watcher sees it at its next pass, checks the job against policy.yaml once more (the policy \
        may have changed since the job arrived), then accepts the deployment and tells the server, whose \
        job goes on. The CLI never changes the job's state itself. A job that waits for nothing, or that \
        has a reject request, is an error (exit status 1). See `ferry approvals` and docs/policy.md.

        Examples:
          ferry approve 20261125-190501-ab12cd --workspace /srv/ferry/site-1
          ferry approve 20261125-19             # any unique prefix; $FERRY_WORKSPACE or the current folder
        """
    )

    @Argument(help: ArgumentHelp("The job id, or any unique prefix of it (see `ferry approvals`).", valueName: "ID"))
    var id: String

    @OptionGroup var site: SiteWorkspaceOption

    func run() async throws {
        let approvals = try site.approvals()
        let (job, already) = try approvals.request(.approve, id: id)
        if already {
            print("approval of \(job.job) was already requested; the watcher of \(approvals.site) acts on it at its next pass")
            return
        }
        print("approval requested for \(job.job) (\(job.name)); the watcher of \(approvals.site) deploys it at its next pass")
        StandardError.write("the server's `ferry status \(job.job)` follows the job\n")
    }
}
