import ArgumentParser
import FerryJobs
import FerryRuntime
import FerrySupport
import Foundation

/// `ferry approvals [--workspace CLIENT_WS] [--json]`: the jobs waiting for approval at a client site.
struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "List the jobs waiting for this site's approval (policy.yaml: approve: manual).",
        discussion: """
        Run at a client site whose policy.yaml says `approve: manual`. A deployment that passed the \
        site's policy waits there, unpacked but not run, until `ferry approve ID` or `ferry reject ID`; the \
        server's `ferry status` shows "waiting for approval". Each job is shown with what it would run: \
        the executor command, the environment it sets, the filter its results leave with and its rounds. \
        The policy and its keys are described in docs/policy.md.

        --json prints {"site", "pending": [...]}, each job the fields of its jobs/<id>/pending.json plus \
        "requested" (approve, reject or null).

        Examples:
          ferry approvals --workspace /srv/ferry/site-1
          ferry approvals --json | jq -r '.pending[].job'
        """
    )

    @OptionGroup var site: SiteWorkspaceOption

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let approvals = try site.approvals()
        let pending = approvals.pending()
        do {
            let policy = try SitePolicy.load(workspace: approvals.directory)
            if policy.approve == .auto && !json {
                StandardError.write("note: \(approvals.site)'s policy approves jobs automatically (approve: auto)\n")
            }
        } catch {
            StandardError.write("warning: \(approvals.site) refuses every job until its policy.yaml is fixed:\n\(error)\n")
        }
        if json {
            let jobs: [Any] = try pending.map { entry in
                let data = try JSONFile.encoder().encode(entry.job)
                var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
                object["requested"] = entry.requested?.rawValue ?? NSNull()
                return object
            }
            print(try JobReport.text(["site": approvals.site, "pending": jobs]), terminator: "")
            return
        }
        if pending.isEmpty {
            print("no job waits for approval at \(approvals.site)")
            return
        }
        for (index, entry) in pending.enumerated() {
            let job = entry.job
            if index > 0 { print("") }
            print("\(job.job)  \(job.name)  from \(job.server), received \(JobReport.time(job.receivedAt))")
            var table = TextTable()
            table.add(["app", job.app])
            table.add(["command", job.command.joined(separator: " ")])
            table.add(["env", job.env.isEmpty ? "(none)" : job.env.keys.sorted().map { "\($0)=\(job.env[$0]!)" }.joined(separator: " ")])
            table.add(["results", job.toServer.map { "quantized to \($0)" } ?? "unfiltered (full precision)"])
            if let privacy = job.privacy { table.add(["privacy", privacy.joined(separator: "; ")]) }
            table.add(["rounds", String(job.rounds)])
            table.add(["decision", entry.requested.map { "\($0.rawValue) requested; the watcher acts on it at its next pass" }
                ?? "none yet: ferry approve \(job.job) / ferry reject \(job.job)"])
            print(table.lines(indent: "  ").joined(separator: "\n"))
        }
    }
}
