import FerryJobs
import FerrySupport
import Foundation
import Synchronization

/// A task run as a Slurm batch job (`launcher: slurm`, docs/hpc.md).
///
/// ``start()`` records the job's name in ``SlurmJobRecord`` (`slurm.json` beside the task), submits
/// ``SlurmBatchScript`` with `sbatch --parsable` and records the job id it answers; a record left by a
/// previous watcher is re-attached to instead (a record without an id: the job is looked up by name
/// with `squeue`, and submitted only when Slurm has none). ``poll()`` follows the job with `scontrol`
/// (then `sacct`, then the exit status the script leaves), at most every ``checkInterval``: queue time
/// counts against `queue_timeout`, run time against `executor.timeout`; past either the job is
/// cancelled with `scancel`. Exit code and signal map to the outcomes of a local executor.
public final class SlurmTaskLauncher: TaskLauncher {
    /// What to run.
    public let invocation: ExecutorInvocation
    /// What to ask Slurm for (merged with the site's defaults).
    public let request: SlurmRequest
    /// Longest wait in the queue; nil: no limit.
    public let queueTimeout: Duration?
    /// `slurm.json` of the task.
    public let recordPath: String
    /// Least time between two looks at the job.
    public let checkInterval: Duration

    private struct State {
        var record: SlurmJobRecord?
        var outcome: ExecutorOutcome?
        var lastCheck: ContinuousClock.Instant?
        var stopping = false
        var reportedTrouble = false
    }
    private let state = Mutex(State())

    /// A launcher of `invocation` whose record lives at `recordPath`.
    public init(invocation: ExecutorInvocation, request: SlurmRequest, queueTimeout: Duration?, recordPath: String,
                checkInterval: Duration = .seconds(1)) {
        self.checkInterval = checkInterval
        self.invocation = invocation
        self.request = request
        self.queueTimeout = queueTimeout
        self.recordPath = recordPath
    }

    public var isLocal: Bool { false }
    public var isStopping: Bool { state.withLock { $0.stopping } }

    private var directory: String { (recordPath as NSString).deletingLastPathComponent }
    /// The batch script, beside the record.
    public var scriptPath: String { FileSystem.join(directory, "slurm-job.sh") }
    /// The job's stderr (its stdout goes to the job's log).
    public var stderrPath: String { FileSystem.join(directory, "slurm-stderr.log") }
    /// The exit status the batch script writes.
    public var exitStatusPath: String { FileSystem.join(directory, "slurm-exit-status") }

    /// The deterministic `--job-name` of a task.
    public static func jobName(_ context: ExecutorContext) -> String {
        "ferry-\(context.jobID)-\(context.site)-\(context.task)"
    }

    /// The job id once known.
    public var jobID: String? { state.withLock { $0.record?.jobID } }

    // MARK: Start

    public func start() {
        let clock = ContinuousClock.now
        do {
            if var record = try JSONFile.readIfPresent(SlurmJobRecord.self, from: recordPath) {
                if record.jobID == nil, let found = lookUp(name: record.name) {
                    record.jobID = found
                    try JSONFile.write(record, to: recordPath)
                    note("found Slurm job \(found) (\(record.name)) submitted by a watcher that stopped before recording it")
                }
                if let id = record.jobID {
                    state.withLock { $0.record = record }
                    note("re-attached to Slurm job \(id) (\(record.name))")
                    return
                }
            }
            try submit()
        } catch {
            let failure = error as? ExecutorFailure
                ?? .launchFailed(command: "sbatch", reason: "cannot record the Slurm job in \(recordPath): \(error)")
            note("\(failure)")
            finish(ExecutorOutcome(termination: .notStarted, duration: ContinuousClock.now - clock, stderrTail: "",
                                   result: nil, failure: failure))
        }
    }

    private func submit() throws {
        let context = invocation.context
        let name = Self.jobName(context)
        let script = try SlurmBatchScript(invocation: invocation, request: request, jobName: name,
                                          stderrPath: stderrPath, exitStatusPath: exitStatusPath)
        for path in [context.result, invocation.requireOutputModel ? context.outputModel : "", exitStatusPath, stderrPath]
        where !path.isEmpty {
            FileSystem.remove(path)
        }
        try AtomicFile.write(string: script.text, to: scriptPath)
        var record = SlurmJobRecord(name: name)
        // The name first: a watcher killed while sbatch runs finds the job by it and never submits twice.
        try JSONFile.write(record, to: recordPath)
        let output = SlurmCommand.run(["sbatch", "--parsable", scriptPath], directory: context.appDirectory)
        guard output.succeeded, let id = output.stdout.split(separator: ";").first.map(String.init),
              !id.isEmpty, id.allSatisfy(\.isNumber) else {
            FileSystem.remove(recordPath)
            throw ExecutorFailure.launchFailed(command: "sbatch", reason: output.succeeded
                ? "unexpected answer '\(output.stdout)' (expected a job id)" : "\(output.message) (exit status \(output.status))")
        }
        record.jobID = id
        try JSONFile.write(record, to: recordPath)
        state.withLock { $0.record = record }
        note("submitted Slurm job \(id) (\(name)): \(invocation.command.joined(separator: " "))")
    }

    /// The id of this user's job named `name` that Slurm still knows, if any.
    private func lookUp(name: String) -> String? {
        let output = SlurmCommand.run(["squeue", "--me", "--states=all", "--noheader", "--format=%i", "--name=\(name)"])
        if output.succeeded, let id = output.stdout.split(separator: "\n").first { return String(id) }
        let accounted = SlurmCommand.run(["sacct", "--noheader", "-X", "--parsable2", "--format=JobID", "--name=\(name)"])
        if accounted.succeeded, let id = accounted.stdout.split(separator: "\n").last, id.allSatisfy(\.isNumber) { return String(id) }
        return nil
    }

    // MARK: Follow

    public func poll() -> ExecutorOutcome? {
        let now = ContinuousClock.now
        let due: SlurmJobRecord? = state.withLock { s in
            if s.outcome != nil || s.stopping { return nil }
            if let last = s.lastCheck, now - last < checkInterval { return nil }
            s.lastCheck = now
            return s.record
        }
        if let record = due, let id = record.jobID { check(record, id: id) }
        return state.withLock { $0.outcome }
    }

    private func check(_ record: SlurmJobRecord, id: String) {
        guard let status = status(of: id) else { return }
        var record = record
        if status.isQueued {
            if let limit = queueTimeout, Date().timeIntervalSince(record.submittedAt) > limit.seconds {
                cancel(&record, id: id, for: "queue_timeout")
                end(.timedOut, record: record, failure: .queueTimedOut(after: limit, jobID: id))
            }
            return
        }
        if status.isRunning {
            if record.runningSince == nil {
                // Slurm's start time counts the run of a job that started while no watcher looked.
                record.runningSince = min(Date(), max(record.submittedAt, status.startTime ?? .distantFuture))
                try? JSONFile.write(record, to: recordPath)
                state.withLock { $0.record = record }
                note("Slurm job \(id) is running")
            }
            if let since = record.runningSince, Date().timeIntervalSince(since) > invocation.timeout.seconds {
                note("timeout: cancelling Slurm job \(id) (scancel)")
                cancel(&record, id: id, for: "timeout")
                end(.timedOut, record: record, failure: nil)
            }
            return
        }
        note("Slurm job \(id) ended: \(status.state), exit code \(status.exitCode):\(status.signal)"
             + (status.reason.isEmpty || status.reason == "None" ? "" : ", reason \(status.reason)"))
        switch status.state {
        case "COMPLETED", "FAILED":
            end(status.signal > 0 ? .signaled(status.signal) : .exited(status.exitCode), record: record, failure: nil)
        case "CANCELLED" where record.cancelledFor == "abort":
            end(.cancelled, record: record, failure: nil)
        case "CANCELLED":
            end(.signaled(SIGTERM), record: record, failure: .slurmJobEnded(
                jobID: id, state: "CANCELLED", detail: "cancelled outside ferry (scancel, or the cluster's administrators)"))
        case "TIMEOUT":
            end(.timedOut, record: record, failure: .slurmJobEnded(
                jobID: id, state: "TIMEOUT", detail: "it ran past its Slurm time limit (--time): raise executor.slurm.time"))
        case "OUT_OF_MEMORY":
            end(.signaled(SIGKILL), record: record, failure: .slurmJobEnded(
                jobID: id, state: "OUT_OF_MEMORY", detail: "it used more memory than it asked for (--mem): raise resources.max_memory or executor.slurm.mem"))
        default:
            end(.signaled(status.signal), record: record, failure: .slurmJobEnded(
                jobID: id, state: status.state, detail: status.reason == "None" ? "" : status.reason))
        }
    }

    /// The job's state: scontrol while Slurm remembers it, then sacct, then the exit status its script
    /// wrote; nil (said once in the log) while Slurm cannot be asked.
    private func status(of id: String) -> SlurmJobStatus? {
        let shown = SlurmCommand.run(["scontrol", "show", "job", id, "--oneliner"])
        if shown.succeeded, let status = SlurmJobStatus.parse(scontrol: shown.stdout) { return status }
        let gone = shown.message.localizedCaseInsensitiveContains("invalid job id")
        let accounted = SlurmCommand.run(["sacct", "--noheader", "-X", "--parsable2", "--format=State,ExitCode", "--jobs=\(id)"])
        if accounted.succeeded, let line = accounted.stdout.split(separator: "\n").first,
           let status = SlurmJobStatus.parse(sacct: String(line)) {
            return status
        }
        if let text = try? String(contentsOfFile: exitStatusPath, encoding: .utf8),
           let code = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return SlurmJobStatus(state: code == 0 ? "COMPLETED" : "FAILED", exitCode: code, signal: 0, reason: "")
        }
        if gone {
            return SlurmJobStatus(state: "UNKNOWN", exitCode: 0, signal: 0,
                                  reason: "Slurm no longer knows the job, and it left no exit status in \(exitStatusPath)")
        }
        let first = state.withLock { s in defer { s.reportedTrouble = true }; return !s.reportedTrouble }
        if first { note("cannot ask Slurm about job \(id) yet (\(shown.message)); retrying") }
        return nil
    }

    private func cancel(_ record: inout SlurmJobRecord, id: String, for reason: String) {
        record.cancelledFor = reason
        try? JSONFile.write(record, to: recordPath)
        state.withLock { $0.record = record }
        let output = SlurmCommand.run(["scancel", id])
        if !output.succeeded { note("scancel \(id) failed: \(output.message)") }
    }

    private func end(_ termination: ExecutorTermination, record: SlurmJobRecord, failure: ExecutorFailure?) {
        let tail = collectStderr()
        let seconds = Date().timeIntervalSince(record.runningSince ?? record.submittedAt)
        let outcome = ExecutorOutcome.ended(termination, duration: .milliseconds(Int64(max(0, seconds) * 1000)),
                                            stderrTail: tail, invocation: invocation, failure: failure)
        note("\(termination)" + (outcome.failure.map { ": \($0)" } ?? ""))
        finish(outcome)
    }

    private func finish(_ outcome: ExecutorOutcome) {
        state.withLock { $0.outcome = outcome }
    }

    /// Appends the job's stderr to the job's log and returns its tail (as a local executor's).
    private func collectStderr() -> String {
        guard let bytes = try? FileSystem.readIfPresent(stderrPath, limit: 64 << 20), !bytes.isEmpty else { return "" }
        return withLog { pump in
            bytes.withUnsafeBytes { pump.consume($0, stream: 1) }
            pump.finish(stream: 1)
            pump.trimTail()
            return pump.stderrTail
        } ?? ""
    }

    // MARK: Stop

    public func abort() {
        let record = state.withLock { s -> SlurmJobRecord? in s.stopping = true; return s.record }
        if var known = record, let id = known.jobID {
            note("cancelling Slurm job \(id) (scancel)")
            cancel(&known, id: id, for: "abort")
        } else {
            Self.cancelRecorded(at: recordPath)
        }
        finish(ExecutorOutcome(termination: .cancelled, duration: .zero, stderrTail: "", result: nil, failure: .cancelled))
    }

    public func detach() { state.withLock { $0.stopping = true } }
    public func waitUntilStopped() {}

    /// Cancels the Slurm job recorded at `recordPath` (a task of an aborted job that no launcher follows
    /// now); false when there is no record.
    @discardableResult
    public static func cancelRecorded(at recordPath: String) -> Bool {
        guard var record = try? JSONFile.readIfPresent(SlurmJobRecord.self, from: recordPath) else { return false }
        record.cancelledFor = "abort"
        try? JSONFile.write(record, to: recordPath)
        if let id = record.jobID {
            _ = SlurmCommand.run(["scancel", id])
        } else {
            _ = SlurmCommand.run(["scancel", "--me", "--name=\(record.name)"])
        }
        return true
    }

    // MARK: Log

    private func note(_ text: String) {
        _ = withLog { $0.note("[ferry] \(Timestamp.now()) \(text)") }
    }

    /// Runs `body` with an ``OutputPump`` on the job's log (nil when the log cannot be opened).
    private func withLog<T>(_ body: (inout OutputPump) -> T) -> T? {
        let fd = open(invocation.logPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var pump = OutputPump(logFD: fd)
        return body(&pump)
    }
}
