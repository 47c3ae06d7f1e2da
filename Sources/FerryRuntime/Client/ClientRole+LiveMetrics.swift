import FerrySupport
import FerryWorkspace
import Foundation

extension ClientRole {
    /// Ships the live metrics (`tasks/<task>/metrics.jsonl`, written by the executor through
    /// `FERRY_METRICS`) of the running tasks to the server, at most every
    /// ``LiveMetricsShipper/interval`` per task and only when the file grew; a task that ended gets
    /// its last records shipped once more. One shipment at a time per task (docs/runtime.md).
    func shipLiveMetrics(running keys: [String], now: Date = Date()) {
        for key in keys where liveMetrics.cursors[key] == nil { liveMetrics.cursors[key] = .init() }
        let runningKeys = Set(keys)
        for key in liveMetrics.cursors.keys.sorted() {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, var cursor = liveMetrics.cursors[key] else { continue }
            let (job, task) = (parts[0], parts[1])
            let finished = !runningKeys.contains(key)
            if let last = cursor.lastMessage, outbox.contains(last) && outbox.sentRecord(last) == nil {
                continue  // the previous shipment is still on its way
            }
            let path = FileSystem.join(taskDirectory(job, task), ClientFiles.liveMetrics)
            let size = FileSystem.size(path)
            if size <= 0 || size == cursor.size || (!finished && now.timeIntervalSince(cursor.shippedAt) < LiveMetricsShipper.interval) {
                if finished && (size <= 0 || size == cursor.size) { liveMetrics.cursors[key] = nil }
                continue
            }
            cursor.size = size
            cursor.shippedAt = now
            cursor.lastMessage = shipSnapshot(job: job, task: task, metricsFile: path, size: size, now: now)
            liveMetrics.cursors[key] = finished ? nil : cursor
        }
    }

    /// Queues one snapshot of the metrics file; its message id, or nil when nothing was queued.
    private func shipSnapshot(job: String, task: String, metricsFile: String, size: Int64, now: Date) -> String? {
        let tdir = taskDirectory(job, task)
        guard let (tail, fromStart) = LiveMetricsShipper.tail(metricsFile, size: size),
              let record = try? JSONFile.read(TaskRecord.self, from: FileSystem.join(tdir, "task.json")) else { return nil }
        let records = LiveMetricsSnapshot.records(fromTail: tail, startsAtFileStart: fromStart)
        guard !records.isEmpty else { return nil }
        let snapshot = LiveMetricsSnapshot(site: workspace.name, task: task, round: record.round, updatedAt: now, records: records)
        let id = "\(job).metrics.\(task).\(workspace.name).\(size)"
        let payload = FileSystem.join(tdir, "live-metrics-\(size).json")
        do {
            try JSONFile.write(snapshot, to: payload)
            try outbox.enqueue(OutgoingMessage(
                id: id, kind: .metrics, job: job, payload: payload, recipients: [serverName],
                metadata: [MessageKey.kind: MessageKind.metrics.rawValue, MessageKey.job: job,
                           MessageKey.site: workspace.name, MessageKey.task: task, MessageKey.message: id],
                quantize: nil, mode: .file, chunkSize: WireSettings.plain.chunkSize, window: WireSettings.plain.window,
                removePayloadWhenSent: true, createdAt: now))
            return id
        } catch {
            FileSystem.remove(payload)
            logger.warning("job \(job): cannot ship the live metrics of \(task): \(error)")
            return nil
        }
    }
}
