import ArgumentParser
import FerrySupport
import FerryWorkspace

/// `ferry jobs [--json]`: the jobs in the server's job store.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the jobs in the server's job store, oldest first.",
        discussion: """
        One line per job: id, name, state, round, sites and submission time. Damaged jobs (missing or \
        unreadable meta.json/state.json) are listed at the end with the reason, and so are jobs paused for \
        lack of disk space, with the folder that is full and how much they need. Job ids may be abbreviated \
        to any unique prefix in the other commands.

        --json prints {"jobs": [...], "damaged": [{"id", "reason"}]}, each job the object that \
        `ferry status ID --json` prints (format in docs/workspaces.md).

        Examples:
          ferry jobs
          ferry jobs --workspace /mnt/share/demo/server
          ferry jobs --json | jq -r '.jobs[] | select(.state == "running") | .id'
        """
    )

    @OptionGroup var workspace: WorkspaceOption

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let store = try workspace.store()
        let (jobs, damaged) = store.scan()
        if json {
            let object: [String: Any] = [
                "jobs": try jobs.map(JobReport.json),
                "damaged": damaged.map { ["id": $0.id, "reason": $0.reason] },
            ]
            print(try JobReport.text(object), terminator: "")
            return
        }
        if jobs.isEmpty && damaged.isEmpty {
            print("no jobs in \(store.directory)")
            print("submit one with: ferry submit jobs/hello-fedavg")
            return
        }
        var table = TextTable(header: ["ID", "NAME", "STATE", "ROUND", "SITES", "SUBMITTED"])
        for job in jobs {
            var state = job.state.state.rawValue
            if job.abortRequested && !job.state.state.isFinished { state += " (abort requested)" }
            if job.state.paused != nil && !job.state.state.isFinished { state += " (paused)" }
            table.add([job.id, job.name, state, JobReport.progress(job.state),
                       String(job.meta.sites.count), JobReport.time(job.meta.submittedAt)])
        }
        print(table.text, terminator: "")
        for job in jobs where !job.state.state.isFinished {
            if let paused = job.state.paused { print("\(job.id)  paused: \(paused)") }
        }
        for entry in damaged {
            print("\(entry.id)  damaged: \(entry.reason)")
        }
    }
}
