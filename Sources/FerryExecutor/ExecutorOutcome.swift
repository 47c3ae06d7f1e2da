/// How an executor process ended.
public enum ExecutorTermination: Sendable, Equatable, CustomStringConvertible {
    /// The process was never started (bad command, unknown placeholder…).
    case notStarted
    /// It exited with this status.
    case exited(Int32)
    /// It was killed by this signal (not by ferry).
    case signaled(Int32)
    /// It ran past its timeout and ferry terminated its process group.
    case timedOut
    /// The run was cancelled (job aborted, watcher stopping) and ferry terminated its process group.
    case cancelled

    public var description: String {
        switch self {
        case .notStarted: return "not started"
        case let .exited(code): return "exited with status \(code)"
        case let .signaled(signal): return "killed by signal \(signal)\(ExecutorFailure.signalName(signal))"
        case .timedOut: return "timed out"
        case .cancelled: return "cancelled"
        }
    }
}

/// Why an executor run did not produce a usable result. Every case says what to fix.
public enum ExecutorFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The command list is empty.
    case emptyCommand
    /// `{name}` in the command or an environment value is not a known placeholder.
    case unknownPlaceholder(String, in: String)
    /// The executable was not found in the app folder or on PATH.
    case commandNotFound(String, appDirectory: String, searchPath: String)
    /// The process could not be started.
    case launchFailed(command: String, reason: String)
    /// The log file could not be opened.
    case logUnavailable(path: String, reason: String)
    /// The process exited with a non-zero status.
    case exitStatus(Int32, stderrTail: String)
    /// The process was killed by a signal it did not get from ferry.
    case signaled(Int32, stderrTail: String)
    /// The process ran past its timeout and was terminated.
    case timedOut(after: Duration, stderrTail: String)
    /// The run was cancelled and the process terminated.
    case cancelled
    /// The process succeeded but wrote no result file.
    case missingResult(path: String)
    /// The result file is not valid.
    case invalidResult(path: String, reason: String)
    /// The process succeeded but wrote no output model.
    case missingOutputModel(path: String)
    /// The Slurm job waited in the queue past `executor.queue_timeout` and was cancelled.
    case queueTimedOut(after: Duration, jobID: String)
    /// The Slurm job ended in a state that is not an exit of the executor (cancelled outside ferry,
    /// out of memory, node failure, Slurm's own time limit…).
    case slurmJobEnded(jobID: String, state: String, detail: String)
    /// A persistent executor ended (exited or was killed by a signal not from ferry) before it answered the task.
    case endedBeforeAnswer(ExecutorTermination, stderrTail: String)
    /// A persistent executor answered the task with a failure (its done marker's `error`).
    case reportedFailure(String)
    /// A persistent executor crashed more often than `executor.restarts` allows: it is not started again.
    case restartsExhausted(crashes: Int, restarts: Int, last: String)

    public var description: String {
        switch self {
        case .emptyCommand:
            return "the executor command is empty: set executor.command in the client app.yaml"
        case let .unknownPlaceholder(name, text):
            return "unknown placeholder {\(name)} in '\(text)': use one of {input_model} {output_model} {result} {round} "
                + "{rounds} {site} {job_id} {task} {app_dir} {work_dir}"
        case let .commandNotFound(name, _, path):
            if name.hasPrefix("/") {
                return "the executor program '\(name)' does not exist on this site or is not executable: "
                    + "install it there, or fix executor.command in the client app.yaml"
            }
            if name.contains("/") {
                return "the executor program '\(name)' is not in the app folder or is not executable: ship it there "
                    + "(and `chmod +x` it), or give its absolute path in executor.command"
            }
            return "the executor program '\(name)' is not on PATH (\(path)) nor in the app folder: install it on this site, "
                + "give its absolute path in executor.command, or put it in the app's folder"
        case let .launchFailed(command, reason):
            return "cannot start the executor '\(command)': \(reason)"
        case let .logUnavailable(path, reason):
            return "cannot open the executor log \(path): \(reason)"
        case let .exitStatus(code, tail):
            return "the executor exited with status \(code)" + Self.tailText(tail)
        case let .signaled(signal, tail):
            return "the executor was killed by signal \(signal)\(Self.signalName(signal))" + Self.tailText(tail)
        case let .timedOut(after, tail):
            return "the executor ran past its timeout of \(Self.seconds(after)) and was terminated: "
                + "raise executor.timeout in the client app.yaml or make the task shorter" + Self.tailText(tail)
        case .cancelled:
            return "the executor was cancelled"
        case let .missingResult(path):
            return "the executor exited with status 0 but wrote no result file \(path): it must write "
                + "{\"num_samples\": N, \"metrics\": {...}} to the path given as {result} / FERRY_RESULT"
        case let .invalidResult(path, reason):
            return "invalid executor result file \(path): \(reason)"
        case let .missingOutputModel(path):
            return "the executor exited with status 0 but wrote no output model \(path): it must write a safetensors "
                + "file to the path given as {output_model} / FERRY_OUTPUT_MODEL"
        case let .queueTimedOut(after, jobID):
            return "the Slurm job \(jobID) waited in the queue longer than executor.queue_timeout (\(Self.seconds(after))) "
                + "and was cancelled: raise queue_timeout, or ask for less (partition, gpus, time) in executor.slurm"
        case let .slurmJobEnded(jobID, state, detail):
            return "the Slurm job \(jobID) ended \(state)" + (detail.isEmpty ? "" : ": \(detail)")
        case let .endedBeforeAnswer(termination, tail):
            return "the persistent executor \(termination) before it answered the task (no done marker): "
                + "it must write the task's result files, then requests/<n>.done, before it exits (docs/executor-contract.md)"
                + Self.tailText(tail)
        case let .reportedFailure(error):
            return "the persistent executor reported a failure: \(error)"
        case let .restartsExhausted(crashes, restarts, last):
            return "the persistent executor crashed \(crashes) times (last: \(last)) and is not started again "
                + "(executor.restarts: \(restarts)): fix the crash (see the job's log), or raise executor.restarts in the client app.yaml"
        }
    }

    /// The tail of stderr, if any, as a suffix of a message.
    private static func tailText(_ tail: String) -> String {
        let trimmed = tail.trimmingTrailingWhitespace()
        return trimmed.isEmpty ? "" : "; last lines of its stderr:\n" + trimmed
    }

    private static func seconds(_ d: Duration) -> String {
        let (s, atto) = d.components
        let total = Double(s) + Double(atto) / 1e18
        return total == total.rounded() ? "\(Int64(total)) s" : "\(total) s"
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case 9: return " (SIGKILL, often the out-of-memory killer)"
        case 15: return " (SIGTERM)"
        case 11: return " (SIGSEGV)"
        case 6: return " (SIGABRT)"
        case 2: return " (SIGINT)"
        default: return ""
        }
    }
}

/// What happened when an executor ran.
public struct ExecutorOutcome: Sendable {
    /// How the process ended.
    public var termination: ExecutorTermination
    /// Wall time from start to exit.
    public var duration: Duration
    /// The last ~4 KiB of its standard error (whole lines where possible).
    public var stderrTail: String
    /// The validated result file, when the run succeeded.
    public var result: ExecutorResult?
    /// Why the run failed; `nil` on success.
    public var failure: ExecutorFailure?

    /// Whether the run produced a valid result (and output model, when one was required).
    public var succeeded: Bool { failure == nil && result != nil }

    /// Creates an outcome.
    public init(termination: ExecutorTermination, duration: Duration, stderrTail: String,
                result: ExecutorResult?, failure: ExecutorFailure?) {
        self.termination = termination
        self.duration = duration
        self.stderrTail = stderrTail
        self.result = result
        self.failure = failure
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}
