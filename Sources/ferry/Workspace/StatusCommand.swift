import ArgumentParser
import FerryRuntime
import FerrySupport
import FerryWorkspace
import Foundation

/// `ferry status ID [--json]`: one job's state, per-site state, round and bytes moved.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a job's state, per-site state, current round and bytes moved.",
        discussion: """
        Reads the job's state.json and meta.json from the server's job store (the server watcher keeps \
        them current). States: submitted, dispatched, running, finished:completed, finished:aborted, \
        finished:failed (with the reason). A job waiting for disk space shows `paused` with the folder that \
        is full and how much it needs; it continues by itself once there is room. A job deployed to a site whose \
        policy.yaml says `approve: manual` shows `waiting  for approval at SITE` until that site's operator runs \
        `ferry approve` or `ferry reject` (docs/policy.md); a site that refused the job shows `refused: REASON`, \
        e.g. the policy.yaml rule it broke. Bytes are those the server put on the wire to the sites and \
        took from them, with what they would have been without quantization. `live` shows the latest step \
        each site's executor logged during its task (ferry.log in Python, or the FERRY_METRICS file), \
        shipped every few seconds. `eval` shows each site's evaluation of the global model in the latest \
        round evaluated (the server app's evaluate_every); a cross-site-eval job ends with its site × \
        model matrix, a table per metric.

        Sites of an unfinished job whose watcher is dead (no heartbeat for longer than the grace period, \
        see `ferry sites`) are listed under `dead` with how long they have been silent.

        --json prints every key of state.json plus abort_requested, dead_sites (names), directory, meta \
        (meta.json) and live (site → task, round, step, metrics, updated_at), evaluations (each \
        evaluated round: round, sites, aggregate) and cross_site_eval (the matrix) when present; the \
        format is in docs/workspaces.md.

        Examples:
          ferry status 20261125-190501-ab12cd
          ferry status 20261125-19            # any unique prefix
          ferry status 2026 --json | jq .state
        """
    )

    @OptionGroup var id: JobIDArgument
    @OptionGroup var workspace: WorkspaceOption

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let store = try workspace.store()
        let job = try store.record(id: id.id)
        let dead = Self.deadSites(of: job, in: store.workspace)
        let live = job.paths.liveMetricsSnapshots()
        let run = try? JobRun(jobDirectory: job.paths.directory)
        if json {
            var object = try JobReport.json(job)
            if let run { object.merge(try EvaluationReport.json(run)) { _, new in new } }
            object["dead_sites"] = dead.map(\.site)
            object["live"] = LiveMetricsText.json(live)
            print(try JobReport.text(object), terminator: "")
            return
        }
        let state = job.state
        var table = TextTable()
        table.add(["job", "\(job.id)  \(job.name)"])
        var stateText = state.state.rawValue
        if job.abortRequested && !state.state.isFinished { stateText += "  (abort requested)" }
        table.add(["state", stateText])
        if let reason = state.reason { table.add(["reason", reason]) }
        if let paused = state.paused, !state.state.isFinished { table.add(["paused", paused]) }
        table.add(["round", "\(state.round) of \(state.rounds)"])
        for (index, site) in state.sites.keys.sorted().enumerated() {
            table.add([index == 0 ? "sites" : "", "\(site): \(state.sites[site] ?? "")"])
        }
        let now = Date()
        for (index, line) in live.keys.sorted().compactMap({ LiveMetricsText.line(live[$0]!, now: now) }).enumerated() {
            table.add([index == 0 ? "live" : "", line])
        }
        let evaluationLines: [String] = run.map { EvaluationReport.latestLines($0) } ?? []
        for (index, line) in evaluationLines.enumerated() {
            table.add([index == 0 ? "eval" : "", line])
        }
        for (index, entry) in dead.enumerated() {
            table.add([index == 0 ? "dead" : "", "\(entry.site): \(SitesCommand.lastSeen(entry)) (grace exceeded)"])
        }
        let approvals = state.sites.keys.sorted().filter { state.sites[$0] == "waiting for approval" }
        if !approvals.isEmpty && !state.state.isFinished {
            table.add(["waiting", "for approval at " + approvals.joined(separator: ", ") + " (ferry approve there)"])
        }
        table.add(["sent", JobReport.bytes(state.bytesSent, unquantized: state.bytesSentUnquantized)])
        table.add(["received", JobReport.bytes(state.bytesReceived, unquantized: state.bytesReceivedUnquantized)])
        table.add(["submitted", "\(JobReport.time(job.meta.submittedAt)) from \(job.meta.source)"])
        if let started = state.startedAt { table.add(["started", JobReport.time(started)]) }
        if let finished = state.finishedAt {
            var text = JobReport.time(finished)
            if let started = state.startedAt {
                text += " (after \(DurationText.format(.seconds(finished.timeIntervalSince(started)))))"
            }
            table.add(["finished", text])
        }
        table.add(["updated", JobReport.time(state.updatedAt)])
        table.add(["folder", job.paths.directory])
        print(table.text, terminator: "")
        if let matrix = run?.crossSiteEval { print("\n" + matrix.text, terminator: "") }
    }

    /// The job's sites whose heartbeat says dead, while the job is not finished.
    static func deadSites(of job: JobRecord, in server: SiteWorkspace) -> [SiteLivenessEntry] {
        guard !job.state.state.isFinished, let report = try? SiteLivenessReport.read(server: server) else { return [] }
        return report.sites.filter { $0.state == .dead && job.state.sites[$0.site] != nil }
    }
}
