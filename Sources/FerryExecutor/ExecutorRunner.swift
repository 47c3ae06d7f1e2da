import FerrySupport
import Foundation

/// Runs a client app's executor as an external process under the file-based contract of
/// docs/executor-contract.md and reports how it went.
///
/// The process runs in the app folder as the leader of its own process group, with the
/// placeholders expanded in argv and environment values, the `FERRY_*` variables set and
/// ``ExecutorInvocation/toolDirectory`` first on PATH. Its stdout and stderr are appended line by
/// line to the log file. On timeout (or cancellation) the whole group gets SIGTERM, then SIGKILL
/// after the grace period; when the leader exits, anything left in its group is killed.
/// Stale result and output-model files are removed before the start, so only what this run
/// wrote counts.
///
/// ```swift
/// let outcome = await ExecutorRunner(invocation).run()
/// if let result = outcome.result { print(result.numSamples, result.metrics) }
/// else { print(outcome.failure!) }
/// ```
public struct ExecutorRunner: Sendable {
    /// What to run.
    public var invocation: ExecutorInvocation

    /// Creates a runner for `invocation`.
    public init(_ invocation: ExecutorInvocation) {
        self.invocation = invocation
    }

    /// Runs the executor on a dedicated thread; cancelling the calling task terminates it.
    public func run() async -> ExecutorOutcome {
        let cancellation = ExecutorCancellation()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ExecutorOutcome, Never>) in
                let runner = self
                let thread = Thread {
                    continuation.resume(returning: runner.runBlocking(cancellation: cancellation))
                }
                thread.name = "ferry-executor"
                thread.start()
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// Runs the executor on the calling thread and blocks until it has ended.
    public func runBlocking(cancellation: ExecutorCancellation? = nil) -> ExecutorOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        func notStarted(_ failure: ExecutorFailure) -> ExecutorOutcome {
            ExecutorOutcome(termination: .notStarted, duration: clock.now - start, stderrTail: "",
                            result: nil, failure: failure)
        }

        let token = ExecutorProcessRecord.newToken()
        let prepared: Prepared
        do {
            prepared = try prepare(token: token)
        } catch {
            return notStarted(error)
        }
        let context = invocation.context
        for path in [context.result, invocation.requireOutputModel ? context.outputModel : ""] where !path.isEmpty {
            _ = unlink(path)
        }

        let logFD: Int32
        do {
            logFD = try openLog()
        } catch {
            return notStarted(error)
        }
        defer { close(logFD) }
        var pump = OutputPump(logFD: logFD)
        pump.note("[ferry] \(Self.timestamp()) start: site \(context.site), job \(context.jobID), task \(context.task), "
                  + "round \(context.round)/\(context.rounds): \(prepared.argv.joined(separator: " ")) (in \(context.appDirectory))")

        var child: ChildProcess
        do {
            child = try ChildProcess.spawn(executable: prepared.executable, arguments: prepared.argv,
                                           environment: prepared.environment, directory: context.appDirectory,
                                           memoryLimit: invocation.memoryLimit)
        } catch {
            let failure = ExecutorFailure.launchFailed(command: prepared.argv[0], reason: error.reason)
            pump.note("[ferry] \(Self.timestamp()) \(failure)")
            return notStarted(failure)
        }
        // The child is held until its process is recorded: a watcher that dies before the record is
        // written leaves nothing running (the held shell exits when the gate closes).
        if let recordPath = invocation.processRecordPath {
            do {
                try JSONFile.write(ExecutorProcessRecord(pid: child.pid, token: token), to: recordPath)
            } catch {
                child.abandon()
                let failure = ExecutorFailure.launchFailed(
                    command: prepared.argv[0], reason: "cannot record the executor's process in \(recordPath): \(error)")
                pump.note("[ferry] \(Self.timestamp()) \(failure)")
                return notStarted(failure)
            }
        }
        child.release()

        let deadline = start + invocation.timeout
        var stopReason: ExecutorTermination?
        var termSentAt: ContinuousClock.Instant?
        var killSent = false
        var waitStatus: Int32?
        var drainDeadline: ContinuousClock.Instant?
        var open = [true, true]
        var exitedAt = start
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }

        while true {
            let now = clock.now
            if waitStatus == nil, let status = child.reapIfExited() {
                waitStatus = status
                exitedAt = now
                drainDeadline = now + .seconds(2)
            }
            if waitStatus != nil {
                if !open[0] && !open[1] { break }
                if let d = drainDeadline, now >= d { break }
            } else if stopReason == nil {
                if now >= deadline {
                    stopReason = .timedOut
                } else if cancellation?.isCancelled == true {
                    stopReason = .cancelled
                }
                if let reason = stopReason {
                    pump.note("[ferry] \(Self.timestamp()) \(reason == .timedOut ? "timeout" : "cancelled"): "
                              + "sending SIGTERM to the process group \(child.pid)")
                    child.signalGroup(SIGTERM)
                    termSentAt = now
                }
            } else if !killSent, let sent = termSentAt, now - sent >= invocation.killGracePeriod {
                pump.note("[ferry] \(Self.timestamp()) still running after the grace period: sending SIGKILL")
                child.signalGroup(SIGKILL)
                killSent = true
            }

            pump.pump(child, open: &open, buffer: buffer, milliseconds: 50)
        }
        pump.finishAll(child, open: open)

        let duration = exitedAt - start
        let status = waitStatus ?? 0
        let termination: ExecutorTermination
        if let reason = stopReason {
            termination = reason
        } else {
            termination = ExecutorTermination(waitStatus: status)
        }
        let tail = pump.stderrTail
        let ended = ExecutorOutcome.ended(termination, duration: duration, stderrTail: tail, invocation: invocation)
        let failure = ended.failure
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        pump.note("[ferry] \(Self.timestamp()) \(termination) after \(String(format: "%.2f", seconds)) s"
                  + (failure.map { ": \($0)" } ?? ""))
        return ended
    }

    /// The expanded argv, the resolved executable and the final environment.
    struct Prepared {
        var executable: String
        var argv: [String]
        var environment: [String: String]
    }

    /// Expands placeholders, builds the environment (with `token` as `FERRY_EXECUTOR_ID`) and resolves the executable.
    func prepare(token: String = ExecutorProcessRecord.newToken()) throws(ExecutorFailure) -> Prepared {
        let context = invocation.context
        guard let first = invocation.command.first, !first.isEmpty else { throw .emptyCommand }
        var argv: [String] = []
        for arg in invocation.command { argv.append(try context.expand(arg)) }

        var env = invocation.inheritedEnvironment
        for (key, value) in invocation.environment {
            guard !key.isEmpty, !key.contains("="), !key.contains("\0") else {
                throw .launchFailed(command: first, reason: "environment variable name '\(key)' is not valid")
            }
            env[key] = try context.expand(value)
        }
        for (key, value) in context.environmentVariables { env[key] = value }
        env[ExecutorProcessRecord.tokenVariable] = token
        let basePath = env["PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/local/bin:/usr/bin:/bin"
        if let tools = invocation.toolDirectory, !tools.isEmpty {
            env["PATH"] = tools + ":" + basePath
        } else {
            env["PATH"] = basePath
        }
        for arg in argv where arg.contains("\0") {
            throw .launchFailed(command: first, reason: "an argument contains a NUL byte")
        }
        let executable = try Self.resolve(argv[0], appDirectory: context.appDirectory, path: env["PATH"] ?? "")
        return Prepared(executable: executable, argv: argv, environment: env)
    }

    /// Finds `name`: a path with `/` is taken relative to the app folder; a bare name is looked up
    /// in the app folder first, then in each PATH entry.
    static func resolve(_ name: String, appDirectory: String, path: String) throws(ExecutorFailure) -> String {
        func executable(_ candidate: String) -> Bool {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory)
                && !isDirectory.boolValue && access(candidate, X_OK) == 0
        }
        if name.contains("/") {
            let candidate = name.hasPrefix("/") ? name : FileSystem.join(appDirectory, name)
            if executable(candidate) { return candidate }
            throw .commandNotFound(name, appDirectory: appDirectory, searchPath: path)
        }
        let inApp = FileSystem.join(appDirectory, name)
        if executable(inApp) { return inApp }
        for dir in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = FileSystem.join(String(dir), name)
            if executable(candidate) { return candidate }
        }
        throw .commandNotFound(name, appDirectory: appDirectory, searchPath: path)
    }

    func openLog() throws(ExecutorFailure) -> Int32 {
        let path = invocation.logPath
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw .logUnavailable(path: path, reason: error.localizedDescription)
            }
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .logUnavailable(path: path, reason: errnoText()) }
        return fd
    }

    private static func timestamp() -> String { Timestamp.now() }
}
