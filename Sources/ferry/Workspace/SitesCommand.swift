import ArgumentParser
import FerryRuntime
import FerrySupport
import FerryWorkspace
import Foundation

/// `ferry sites [--json]`: whether each site's watcher is running, from the heartbeats on the share.
struct SitesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sites",
        abstract: "Show each site's liveness: last seen, alive/stale/dead, version, free space, tasks.",
        discussion: """
        Every watcher (`ferry watch`) rewrites a small heartbeat file in the server's inbox about once per \
        poll period (inbox/.ferry-heartbeat/<site>.json). A site is alive while its heartbeat keeps \
        changing, stale when it has not changed for three heartbeat intervals (at least 5 s), and dead \
        after the grace period (site.yaml `liveness: {grace: 5m}`, `ferry watch --dead-after`, default \
        5m). Dead sites are not waited for: a round goes on without them while min_clients can still be \
        met, and fails at once with the reason when it cannot.

        Last seen is measured by the server's clock (the server watcher notes when each heartbeat \
        changes), so clocks that differ between hosts do not matter; while the server watcher is not \
        running, the sites' own clocks are used, corrected by the offset last measured.

        --json prints {"grace_s", "observed_at", "sites": [{"site", "role", "state", "last_seen", \
        "silent_s", "clock", "heartbeat"}]}; the format is in docs/runtime.md.

        Examples:
          ferry sites
          ferry sites --workspace /mnt/share/demo/server
          ferry sites --json | jq -r '.sites[] | select(.state == "dead") | .site'
        """
    )

    @OptionGroup var workspace: WorkspaceOption

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let server = try ServerLocator.locate(given: workspace.workspace)
        let report = try SiteLivenessReport.read(server: server)
        if json {
            var data = try JSONFile.encoder().encode(report)
            data.append(0x0A)
            print(String(decoding: data, as: UTF8.self), terminator: "")
            return
        }
        var table = TextTable(header: ["SITE", "ROLE", "STATE", "LAST SEEN", "VERSION", "INBOX FREE", "WORKSPACE FREE", "TASKS"])
        for entry in report.sites {
            let heartbeat = entry.heartbeat
            table.add([entry.site, entry.role, entry.state.rawValue, Self.lastSeen(entry), heartbeat?.version ?? "-",
                       Self.free(heartbeat?.inbox.freeBytes), Self.free(heartbeat?.workspace.freeBytes),
                       Self.tasks(heartbeat?.tasks ?? [])])
        }
        print(table.text, terminator: "")
        print(server.shareGroupSummary(members: server.shareGroupMembers))
        var note = "grace \(DurationText.format(.milliseconds(Int64(report.graceSeconds * 1000))))"
        if report.observedAt == nil {
            note += "; the server watcher has not observed the heartbeats yet: last seen is by the sites' own clocks"
        }
        print(note)
    }

    /// `4.2s ago`, `never`, `never (waited 1m02s)`.
    static func lastSeen(_ entry: SiteLivenessEntry) -> String {
        let silence = entry.silentSeconds.map { DurationText.format(.milliseconds(Int64(max(0, $0) * 1000))) }
        guard entry.lastSeen != nil, let silence else { return silence.map { "never (waited \($0))" } ?? "never" }
        return "\(silence) ago"
    }

    static func free(_ bytes: Int64?) -> String { bytes.map { ByteCount.format($0) } ?? "-" }

    /// `<job> r2 train-r0002, …` (with `(executor crashed 1x)` after a persistent executor's crashes) or `-`.
    static func tasks(_ tasks: [Heartbeat.Task]) -> String {
        tasks.isEmpty ? "-" : tasks.map { task in
            "\(task.job) r\(task.round) \(task.task)" + (task.executorCrashes.map { $0 > 0 ? " (executor crashed \($0)x)" : "" } ?? "")
        }.joined(separator: ", ")
    }
}
