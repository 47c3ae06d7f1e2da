import FerrySupport
import Foundation

/// A result that could not be sent (docs/policy.md: a filter `policy.yaml` requires was unavailable).
extension ClientRole {
    /// Tells the server that the task of `record` failed, with `error` as the reason, so that its round
    /// decides at once instead of waiting for `round_timeout`. Only for a task's result itself (not for a
    /// notice, nor for this report).
    func reportUnsent(_ record: SentRecord, error: String) {
        let prefix = "\(record.job).result.", suffix = ".\(workspace.name)"
        guard record.id.hasPrefix(prefix), record.id.hasSuffix(suffix), record.id.count > prefix.count + suffix.count else { return }
        let task = String(record.id.dropFirst(prefix.count).dropLast(suffix.count))
        guard task != "deploy",
              let taskRecord = try? JSONFile.readIfPresent(TaskRecord.self, from: FileSystem.join(taskDirectory(record.job, task), "task.json"))
        else { return }
        let reason = "the result of \(task) was not sent: \(error)"
        do {
            try reply(job: record.job, task: task, round: taskRecord.round, ok: false, error: reason, payload: nil,
                      id: "\(record.job).unsent.\(task).\(workspace.name)")
            log(record.job, "told the server that \(task) failed: its result could not be sent", error: true)
        } catch {
            log(record.job, "cannot tell the server that the result of \(task) was not sent: \(error)", error: true)
        }
    }
}
