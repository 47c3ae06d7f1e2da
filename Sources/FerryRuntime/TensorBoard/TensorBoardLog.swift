import FerrySupport
import FerryWorkspace
import Foundation

/// A job's TensorBoard event files on the server (`jobs/<id>/tensorboard/`, docs/workspaces.md): one
/// run per site plus `aggregate`. `round/<metric>` scalars (step = the round) come from the round
/// records: the aggregate in `aggregate`, each client's result in its site's run; `eval/<metric>` the
/// same for the rounds' evaluations of the global model (`evaluate_every`). `train/<metric>`
/// scalars come from the sites' live metrics, at a step that keeps growing across tasks (each task's
/// steps follow the previous task's last one).
struct TensorBoardLog {
    let directory: String

    init(jobDirectory: String) { directory = FileSystem.join(jobDirectory, "tensorboard") }

    /// What was written, so that a round or record is written once (`tensorboard/ferry-state.json`).
    struct State: Codable {
        struct Site: Codable {
            var task: String
            var lastStep: Int
            /// The global step of step 0 of `task`.
            var offset: Int64
            /// The first global step after everything written for the site.
            var next: Int64
        }
        var lastRound = 0
        var sites: [String: Site] = [:]
    }

    private var statePath: String { FileSystem.join(directory, "ferry-state.json") }

    private func readState() -> State { (try? JSONFile.readIfPresent(State.self, from: statePath)) ?? State() }

    /// Writes the scalars of a committed round (once per round).
    func add(round record: RoundRecord) throws {
        var state = readState()
        guard record.round > state.lastRound else { return }
        let time = record.finishedAt.timeIntervalSince1970
        try append(run: "aggregate", TensorBoardEvents.scalars(tags(record.aggregate, "round"), step: Int64(record.round), wallTime: time))
        for site in record.clients.keys.sorted() {
            guard let metrics = record.clients[site]?.metrics, !metrics.isEmpty else { continue }
            try append(run: site, TensorBoardEvents.scalars(tags(metrics, "round"), step: Int64(record.round), wallTime: time))
        }
        if let evaluation = record.evaluation {
            if !evaluation.aggregate.isEmpty {
                try append(run: "aggregate", TensorBoardEvents.scalars(tags(evaluation.aggregate, "eval"), step: Int64(record.round), wallTime: time))
            }
            for site in evaluation.sites.keys.sorted() {
                guard let metrics = evaluation.sites[site]?.metrics, !metrics.isEmpty else { continue }
                try append(run: site, TensorBoardEvents.scalars(tags(metrics, "eval"), step: Int64(record.round), wallTime: time))
            }
        }
        state.lastRound = record.round
        try JSONFile.write(state, to: statePath)
    }

    /// Writes the records of a live metrics snapshot that were not written before; returns them at
    /// their steps counted across the site's tasks.
    @discardableResult
    func add(live snapshot: LiveMetricsSnapshot) throws -> [LiveMetricsPoint] {
        var state = readState()
        var site = state.sites[snapshot.site] ?? .init(task: snapshot.task, lastStep: -1, offset: 0, next: 0)
        if site.task != snapshot.task {
            site = .init(task: snapshot.task, lastStep: -1, offset: site.next, next: site.next)
        }
        var events: [UInt8] = []
        var points: [LiveMetricsPoint] = []
        for record in snapshot.records where record.step > site.lastStep && !record.metrics.isEmpty {
            let step = site.offset + Int64(record.step)
            points.append(LiveMetricsPoint(step: step, task: snapshot.task, metrics: record.metrics))
            events += TensorBoardEvents.scalars(tags(record.metrics, "train"), step: step,
                                                wallTime: record.time ?? snapshot.updatedAt.timeIntervalSince1970)
            site.lastStep = record.step
            site.next = max(site.next, step + 1)
        }
        guard !events.isEmpty else { return [] }
        try append(run: snapshot.site, events)
        state.sites[snapshot.site] = site
        try JSONFile.write(state, to: statePath)
        return points
    }

    private func tags(_ metrics: [String: Double], _ prefix: String) -> [(tag: String, value: Double)] {
        metrics.keys.sorted().map { (tag: "\(prefix)/\($0)", value: metrics[$0]!) }
    }

    /// Appends `events` to the run's event file, creating it (with its file_version event) first.
    private func append(run: String, _ events: [UInt8]) throws {
        let folder = FileSystem.join(directory, run)
        try FileSystem.makeDirectory(folder)
        var file = FileSystem.list(folder).first { $0.hasPrefix("events.out.tfevents.") }.map { FileSystem.join(folder, $0) }
        if file == nil {
            let now = Date().timeIntervalSince1970
            let path = FileSystem.join(folder, "events.out.tfevents.\(Int(now)).ferry")
            try AtomicFile.write(TensorBoardEvents.fileVersion(wallTime: now), to: path)
            file = path
        }
        guard let handle = FileHandle(forUpdatingAtPath: file!) else {
            throw RuntimeError.fileUnwritable(path: file!, reason: "cannot open it to append TensorBoard events")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(events))
    }
}
