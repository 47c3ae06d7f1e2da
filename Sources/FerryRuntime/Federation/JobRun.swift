import FerrySupport
import FerryWorkspace
import Foundation

/// What the server's job store holds about one job run, read back for progress displays, summaries
/// and reports: `state.json`, `meta.json`, the round records `rounds/round-NNNN.json` and the final model.
public struct JobRun: Sendable {
    /// The job's folder in the server's job store.
    public var paths: JobPaths
    /// The job's id.
    public var id: String
    /// The job's name (from job.yaml).
    public var name: String
    /// The job's state file.
    public var state: JobStateFile
    /// The finished rounds, in order.
    public var rounds: [RoundRecord]

    /// Reads the job folder `directory` (`<server>/jobs/<id>`).
    /// - Throws: ``RuntimeError/fileUnreadable(path:reason:)`` when `state.json` is missing or damaged.
    public init(jobDirectory directory: String) throws {
        paths = JobPaths(directory: directory)
        let name = (directory as NSString).lastPathComponent
        do {
            state = try JobStoreCoding.read(JobStateFile.self, from: paths.state, id: name)
        } catch {
            throw RuntimeError.fileUnreadable(path: paths.state, reason: "\(error)")
        }
        id = state.id
        self.name = state.name
        var records: [RoundRecord] = []
        for file in FileSystem.list(paths.roundsDirectory) where file.hasPrefix("round-") && file.hasSuffix(".json") {
            if let record = try? JSONFile.read(RoundRecord.self, from: FileSystem.join(paths.roundsDirectory, file)) {
                records.append(record)
            }
        }
        rounds = records.sorted { $0.round < $1.round }
    }

    /// Reads job `id` (or a unique prefix of it) from the job store of the server workspace `server`.
    public init(id: String, server: SiteWorkspace) throws {
        let store = try JobStore(workspace: server)
        try self.init(jobDirectory: try store.paths(id: id).directory)
    }

    /// The final model, when the job completed.
    public var finalModel: String? { FileSystem.exists(paths.finalModel) ? paths.finalModel : nil }

    /// Wall-clock time from the start of the job to its end (or to now while it runs).
    public var elapsed: TimeInterval? {
        guard let start = state.startedAt else { return nil }
        return (state.finishedAt ?? Date()).timeIntervalSince(start)
    }

    /// The metric names reported in any round, `loss` first, then alphabetical.
    public var metricNames: [String] {
        var names = Set<String>()
        for r in rounds {
            names.formUnion(r.aggregate.keys)
            for c in r.clients.values { names.formUnion((c.metrics ?? [:]).keys) }
        }
        return names.sorted { a, b in
            if a == "loss" { return b != "loss" }
            if b == "loss" { return false }
            return a < b
        }
    }

    /// Sites that took part in any round, sorted.
    public var siteNames: [String] {
        Set(rounds.flatMap { $0.clients.keys }).sorted()
    }
}

/// Byte figures of one round or of a whole job, both directions, on the wire and before quantization.
public struct TrafficFigures: Sendable, Equatable {
    /// Bytes of the global model on the wire, summed over the clients it went to.
    public var toClients: Int64 = 0
    /// The same before quantization.
    public var toClientsUnquantized: Int64 = 0
    /// Bytes of the results on the wire, summed over the clients.
    public var fromClients: Int64 = 0
    /// The same before quantization (restored models).
    public var fromClientsUnquantized: Int64 = 0

    /// Creates zero figures.
    public init() {}

    /// The figures of `round`.
    public init(round: RoundRecord) {
        for c in round.clients.values {
            toClients += c.bytesToClient
            toClientsUnquantized += c.bytesToClientUnquantized
            fromClients += c.bytesFromClient
            fromClientsUnquantized += c.bytesFromClientUnquantized
        }
    }

    /// The figures of every round of `run`.
    public init(run: JobRun) {
        for r in run.rounds { self += TrafficFigures(round: r) }
    }

    /// Both directions on the wire.
    public var wire: Int64 { toClients + fromClients }
    /// Both directions before quantization.
    public var unquantized: Int64 { toClientsUnquantized + fromClientsUnquantized }
    /// The share of bytes quantization saved (0 when nothing was saved or nothing moved).
    public var saving: Double {
        guard unquantized > 0, wire < unquantized else { return 0 }
        return 1 - Double(wire) / Double(unquantized)
    }

    /// Adds `other` to `lhs`.
    public static func += (lhs: inout TrafficFigures, rhs: TrafficFigures) {
        lhs.toClients += rhs.toClients
        lhs.toClientsUnquantized += rhs.toClientsUnquantized
        lhs.fromClients += rhs.fromClients
        lhs.fromClientsUnquantized += rhs.fromClientsUnquantized
    }
}
