import Foundation

/// `slurm.json` in a task's folder: the Slurm job of the task, written atomically before `sbatch` runs
/// (name only) and again as soon as it returned (with the job id), so a restarted watcher re-attaches to
/// the job instead of submitting the task twice (docs/hpc.md).
public struct SlurmJobRecord: Codable, Sendable, Equatable {
    /// `--job-name`: a watcher that died between `sbatch` and this record finds the job by it.
    public var name: String
    /// The Slurm job id; nil until `sbatch` answered.
    public var jobID: String?
    /// When the task was submitted (queue time counts from here, against `queue_timeout`).
    public var submittedAt: Date
    /// When ferry first saw the job running (run time counts from here, against `executor.timeout`).
    public var runningSince: Date?
    /// Why ferry cancelled the job (`abort`, `timeout`, `queue_timeout`); nil while it did not.
    public var cancelledFor: String?

    /// Creates a record.
    public init(name: String, jobID: String? = nil, submittedAt: Date = Date(), runningSince: Date? = nil,
                cancelledFor: String? = nil) {
        self.name = name
        self.jobID = jobID
        self.submittedAt = submittedAt
        self.runningSince = runningSince
        self.cancelledFor = cancelledFor
    }
}

/// A job's state as `scontrol show job -o` or `sacct` reports it.
struct SlurmJobStatus: Equatable {
    /// `JobState` (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY…).
    var state: String
    /// `ExitCode` as `status:signal`.
    var exitCode: Int32
    var signal: Int32
    /// `Reason` (why it waits, or why it ended).
    var reason: String
    /// `StartTime` once the job started (scontrol prints the controller's local time).
    var startTime: Date? = nil

    /// Parses one line of `scontrol show job -o` (space-separated `Key=Value` pairs).
    static func parse(scontrol line: String) -> SlurmJobStatus? {
        var fields: [String: String] = [:]
        for token in line.split(separator: " ") {
            guard let eq = token.firstIndex(of: "=") else { continue }
            let key = String(token[..<eq])
            if fields[key] == nil { fields[key] = String(token[token.index(after: eq)...]) }
        }
        guard let state = fields["JobState"] else { return nil }
        let (code, signal) = exitPair(fields["ExitCode"] ?? "0:0")
        return SlurmJobStatus(state: state, exitCode: code, signal: signal, reason: fields["Reason"] ?? "",
                              startTime: fields["StartTime"].flatMap(parseTime))
    }

    private static func parseTime(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.date(from: text)
    }

    /// Parses `sacct -n -X -P -o State,ExitCode` (`STATE|code:signal`; the state may say `CANCELLED by 0`).
    static func parse(sacct line: String) -> SlurmJobStatus? {
        let parts = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, let state = parts[0].split(separator: " ").first.map(String.init), !state.isEmpty else { return nil }
        let (code, signal) = exitPair(parts[1])
        return SlurmJobStatus(state: state, exitCode: code, signal: signal, reason: "")
    }

    private static func exitPair(_ text: String) -> (Int32, Int32) {
        let parts = text.split(separator: ":").map { Int32($0) ?? 0 }
        return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
    }

    /// Still waiting in the queue.
    var isQueued: Bool { ["PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "CONFIGURING", "SUSPENDED"].contains(state) }
    /// Running (or finishing).
    var isRunning: Bool { ["RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING", "RESIZING"].contains(state) }
}
