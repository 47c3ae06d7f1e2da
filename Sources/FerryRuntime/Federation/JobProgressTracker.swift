import FerrySupport
import FerryWorkspace
import Foundation

/// Follows jobs in a server's job store and turns what changed since the last look into progress
/// lines: the job's state, each site's state, each finished round with its metrics and bytes.
public final class JobProgressTracker {
    private let server: SiteWorkspace
    private let ids: [String]
    private var lastState: [String: JobState] = [:]
    private var lastSites: [String: [String: String]] = [:]
    private var roundsSeen: [String: Int] = [:]
    /// The runs as last read, by job id.
    public private(set) var runs: [String: JobRun] = [:]

    /// Follows `ids` in the job store of `server`.
    public init(server: SiteWorkspace, ids: [String]) {
        self.server = server
        self.ids = ids
    }

    /// Whether every followed job has finished (as of the last ``poll()``).
    public var allFinished: Bool { ids.allSatisfy { runs[$0]?.state.state.isFinished == true } }

    /// Reads the jobs again and returns a line for each change.
    public func poll() -> [String] {
        var lines: [String] = []
        let prefixNames = ids.count > 1
        for id in ids {
            guard let run = try? JobRun(id: id, server: server) else { continue }
            runs[id] = run
            let label = prefixNames ? "\(run.name) " : ""
            let sites = run.state.sites
            for site in sites.keys.sorted() where lastSites[id]?[site] != sites[site] {
                lines.append("\(label)\(site): \(sites[site]!)")
            }
            lastSites[id] = sites
            for round in run.rounds where round.round > (roundsSeen[id] ?? 0) {
                lines.append(label + Self.roundLine(round, rounds: run.state.rounds))
                roundsSeen[id] = round.round
            }
            if lastState[id] != run.state.state {
                // A finished job's reason is left to its summary, so that it is shown once.
                lines.append("\(label)job \(run.id): \(run.state.state.rawValue)")
                lastState[id] = run.state.state
            }
        }
        return lines
    }

    /// `round 2/3 done: loss=0.4210 accuracy=0.8100 (2/2 clients; to clients 1.2 KiB (4.1 KiB raw), from clients …)`.
    static func roundLine(_ round: RoundRecord, rounds: Int) -> String {
        let metrics = round.aggregate.keys.sorted().map { "\($0)=\(formatFixed(round.aggregate[$0]!, 4))" }.joined(separator: " ")
        let ok = round.clients.values.filter { $0.status == "ok" }.count
        let bytes = TrafficFigures(round: round)
        return "round \(round.round)/\(rounds) done: \(metrics.isEmpty ? "no metrics" : metrics) (\(ok)/\(round.clients.count) clients; "
            + "to clients \(ByteCount.format(bytes.toClients)) (\(ByteCount.format(bytes.toClientsUnquantized)) unquantized), "
            + "from clients \(ByteCount.format(bytes.fromClients)) (\(ByteCount.format(bytes.fromClientsUnquantized)) unquantized))"
    }
}
