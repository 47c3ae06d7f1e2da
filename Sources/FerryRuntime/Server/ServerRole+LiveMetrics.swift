import FerrySupport
import FerryWorkspace
import Foundation

extension ServerRole {
    /// Keeps a client's live metrics snapshot as `live/<site>.json` in the job folder (replacing the
    /// previous one); a snapshot that is too large or not a snapshot is dropped.
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
        snapshot.records = Array(snapshot.records.suffix(LiveMetricsSnapshot.maxRecords))
        try FileSystem.makeDirectory(paths.liveMetricsDirectory)
        try JSONFile.write(snapshot, to: paths.liveMetrics(site: message.site))
    }
}
