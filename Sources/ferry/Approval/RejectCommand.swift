import ArgumentParser
import FerryRuntime
import FerrySupport

/// `ferry reject ID`: the site's operator refuses a pending job.
struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Refuse a job waiting for this site's approval.",
        discussion: """
        Writes jobs/<id>/reject.request in the client's workspace ({"by": "cli", "requested_at": …, \
        "reason": …}). The site's watcher sees it at its next pass, removes the unpacked job, records \
        refused.json and answers the server like a policy refusal: the server's `ferry status` shows \
        "refused: rejected by the operator of SITE (ferry reject): REASON", and the job goes on without the \
        site if min_clients still allows it, else fails with that reason. A job that waits for nothing, or \
        that has an approve request, is an error (exit status 1). See `ferry approvals` and docs/policy.md.

        Examples:
          ferry reject 20261125-190501-ab12cd --workspace /srv/ferry/site-1
          ferry reject 20261125-19 --reason "not before the ethics review"
        """
    )

    @Argument(help: ArgumentHelp("The job id, or any unique prefix of it (see `ferry approvals`).", valueName: "ID"))
    var id: String

    @Option(name: .long, help: ArgumentHelp("Why, passed on to the server.", valueName: "TEXT"))
    var reason: String?

    @OptionGroup var site: SiteWorkspaceOption

    func run() async throws {
        let approvals = try site.approvals()
        let (job, already) = try approvals.request(.reject, id: id, reason: reason)
        if already {
            print("rejection of \(job.job) was already requested; the watcher of \(approvals.site) acts on it at its next pass")
            return
        }
        print("rejection requested for \(job.job) (\(job.name)); the watcher of \(approvals.site) refuses it at its next pass and tells the server")
    }
}
