import FerrySupport
import FerryWorkspace
import Foundation

extension ServerRole {
    /// Keeps a client's live metrics snapshot as `live/<site>.json` in the job folder (replacing the
    /// previous one) and adds its new records to the job's TensorBoard events; a snapshot that is too
    /// large, not a snapshot, or of an earlier round than the one kept is dropped.
    func acceptLiveMetrics(_ message: IncomingMessage, job: String) throws {
        defer { FileSystem.remove(message.path) }
        let paths = store.paths(job)
        guard FileSystem.isDirectory(paths.directory),
              FileSystem.size(message.path) <= Int64(LiveMetricsSnapshot.maxFileBytes),
              var snapshot = try? JSONFile.read(LiveMetricsSnapshot.self, from: message.path) else {
            logger.info("dropped a live metrics message of job \(job) from \(message.site): no such job, or not a snapshot")
            return
        }
        snapshot.site = message.site
        // A late snapshot of an earlier round (sent as its task ended) never replaces a newer one.
        if let current = try? JSONFile.readIfPresent(LiveMetricsSnapshot.self, from: paths.liveMetrics(site: message.site)),
           current.round > snapshot.round {
            return
        }
        snapshot.records = Array(snapshot.records.suffix(LiveMetricsSnapshot.maxRecords))
        try FileSystem.makeDirectory(paths.liveMetricsDirectory)
        try JSONFile.write(snapshot, to: paths.liveMetrics(site: message.site))
        do {
            let points = try TensorBoardLog(jobDirectory: paths.directory).add(live: snapshot)
            try appendHistory(points, to: paths.liveMetricsHistory(site: message.site))
        } catch {
            logger.warning("job \(job): cannot write the TensorBoard events or history of \(message.site)'s live metrics: \(error)")
        }
    }

    /// Appends `points` to a site's history (`live/<site>.history.jsonl`, for `ferry report`'s
    /// per-step curves) while it is below ``LiveMetricsPoint/maxHistoryBytes``.
    private func appendHistory(_ points: [LiveMetricsPoint], to path: String) throws {
        guard !points.isEmpty, FileSystem.size(path) < LiveMetricsPoint.maxHistoryBytes else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = Data()
        for point in points { text += try encoder.encode(point) + Data("\n".utf8) }
        if !FileSystem.exists(path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw RuntimeError.fileUnwritable(path: path, reason: "cannot open it to append")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: text)
    }
}
