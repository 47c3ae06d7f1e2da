import FerrySupport
import Foundation
import Synchronization

/// The one executor process of a job on a site (`executor.persistent: true`), which takes every task of
/// the job in turn over the file protocol of docs/executor-contract.md ("Persistent executors"): each task
/// becomes `requests/<n>.json` in the executor's folder, and the process answers with the task's result
/// files and `requests/<n>.done`.
///
/// The process is started (held, recorded in `process.json`, then released, as a one-shot executor) when
/// the first task is submitted, and again for the next task after it ended. A crash (an end that was not
/// asked for: a signal not from ferry, a status other than 0, or any end while a task runs) fails the
/// running task; after more than `restarts` crashes the process is not started again and further tasks
/// fail at once. ``stop(grace:)`` writes the `stop` file; a process still running after the grace period
/// gets SIGTERM, then SIGKILL. Output goes to the job's log as with a one-shot executor.
public final class PersistentExecutor: Sendable {
    /// How the process is run.
    public struct Settings: Sendable {
        /// The command, environment, log, limits and job-level context (the per-task values are unused).
        public var invocation: ExecutorInvocation
        /// The executor's folder (`FERRY_EXECUTOR_DIR`), created when missing.
        public var directory: String
        /// How many crashes are followed by a new start.
        public var restarts: Int

        /// Creates settings.
        public init(invocation: ExecutorInvocation, directory: String, restarts: Int) {
            self.invocation = invocation
            self.directory = directory
            self.restarts = restarts
        }
    }

    private struct State {
        var queue: [PersistentTicket] = []
        var stopGrace: Duration?
        var threadRunning = false
        var record: PersistentExecutorState
    }

    private let settings: Settings
    private let state: Mutex<State>

    /// The `FERRY_*` variables that describe one task: a persistent process gets them in each request instead.
    static let taskVariables = ["FERRY_INPUT_MODEL", "FERRY_OUTPUT_MODEL", "FERRY_RESULT", "FERRY_ROUND", "FERRY_TASK",
                                "FERRY_WORK_DIR", "FERRY_CONFIG", "FERRY_METRICS"]

    /// An executor that starts its process when the first task comes.
    public init(_ settings: Settings) {
        self.settings = settings
        let previous = try? JSONFile.readIfPresent(PersistentExecutorState.self,
                                                   from: FileSystem.join(settings.directory, PersistentExecutorFiles.state))
        var record = previous ?? PersistentExecutorState(pid: 0, starts: 0, crashes: 0, restarts: settings.restarts,
                                                         lastCrash: nil, updatedAt: Date())
        record.restarts = settings.restarts
        state = Mutex(State(record: record))
    }

    /// Hands a task to the process (started if none runs); `onEnd` is called when the task has an outcome.
    public func submit(_ invocation: ExecutorInvocation,
                       onEnd: @escaping @Sendable () -> Void = {}) -> PersistentTicket {
        let ticket = PersistentTicket(invocation: invocation, onEnd: onEnd)
        let startThread = state.withLock { s -> Bool in
            s.queue.append(ticket)
            if s.threadRunning { return false }
            s.threadRunning = true
            return true
        }
        if startThread {
            let thread = Thread { [self] in serve() }
            thread.name = "ferry-persistent-\(settings.invocation.context.jobID)"
            thread.start()
        }
        return ticket
    }

    /// The job is over here: the process is asked to exit (the `stop` file) once no task runs, and is
    /// terminated when it still runs `grace` later. Tasks submitted later fail as cancelled.
    public func stop(grace: Duration = .seconds(10)) {
        state.withLock { $0.stopGrace = $0.stopGrace.map { min($0, grace) } ?? grace }
    }

    /// Whether ``stop(grace:)`` was called.
    public var isStopping: Bool { state.withLock { $0.stopGrace != nil } }

    /// Starts, crashes and the last crash so far.
    public var record: PersistentExecutorState { state.withLock { $0.record } }

    /// Waits until no process of this executor runs and no task waits (after ``stop(grace:)``).
    public func waitUntilStopped() {
        while state.withLock({ $0.threadRunning }) { usleep(20_000) }
    }

    // MARK: The serving thread

    /// Runs processes while tasks wait; returns (ending the thread) when none waits and none runs.
    private func serve() {
        while let ticket = takeNext() {
            let exhausted = state.withLock { s -> (Int, String)? in
                s.record.crashes > settings.restarts ? (s.record.crashes, s.record.lastCrash ?? "") : nil
            }
            if let (crashes, last) = exhausted {
                ticket.finish(ExecutorOutcome(termination: .notStarted, duration: .zero, stderrTail: "", result: nil,
                                              failure: .restartsExhausted(crashes: crashes, restarts: settings.restarts, last: last)))
                continue
            }
            runProcess(first: ticket)
        }
    }

    /// The next waiting task, or nil (the thread ends) when none waits; after a stop request every
    /// waiting task is cancelled.
    private func takeNext() -> PersistentTicket? {
        let (next, cancelled) = state.withLock { s -> (PersistentTicket?, [PersistentTicket]) in
            if s.stopGrace != nil {
                let dropped = s.queue
                s.queue.removeAll()
                s.threadRunning = false
                return (nil, dropped)
            }
            guard !s.queue.isEmpty else {
                s.threadRunning = false
                return (nil, [])
            }
            return (s.queue.removeFirst(), [])
        }
        for ticket in cancelled { ticket.finish(Self.cancelled) }
        return next
    }

    private static let cancelled = ExecutorOutcome(termination: .cancelled, duration: .zero, stderrTail: "", result: nil,
                                                   failure: .cancelled)

    /// A task in the hands of the process.
    private struct Current {
        var ticket: PersistentTicket
        var sequence: Int
        var startedAt: ContinuousClock.Instant
        var deadline: ContinuousClock.Instant
    }

    /// Starts a process for `first` and serves it and every task that comes while it runs.
    private func runProcess(first: PersistentTicket) {
        let clock = ContinuousClock()
        let directory = settings.directory
        let requests = FileSystem.join(directory, PersistentExecutorFiles.requests)
        let stopFile = FileSystem.join(directory, PersistentExecutorFiles.stop)
        func notStarted(_ failure: ExecutorFailure) {
            first.finish(ExecutorOutcome(termination: .notStarted, duration: .zero, stderrTail: "", result: nil, failure: failure))
        }
        let runner = ExecutorRunner(settings.invocation)
        let token = ExecutorProcessRecord.newToken()
        let prepared: ExecutorRunner.Prepared
        let logFD: Int32
        do {
            prepared = try runner.prepare(token: token)
            logFD = try runner.openLog()
        } catch {
            return notStarted(error)
        }
        defer { close(logFD) }
        var pump = OutputPump(logFD: logFD)
        // A new process numbers its requests from 1: nothing of an earlier one may be taken for its own.
        FileSystem.remove(requests)
        FileSystem.remove(stopFile)
        do {
            try FileSystem.makeDirectory(requests)
        } catch {
            return notStarted(.launchFailed(command: prepared.argv[0], reason: "cannot create \(requests): \(error)"))
        }
        var environment = prepared.environment
        for name in Self.taskVariables { environment.removeValue(forKey: name) }
        environment["FERRY_EXECUTOR_DIR"] = directory
        let context = settings.invocation.context
        pump.note("[ferry] \(Timestamp.now()) start of the persistent executor: site \(context.site), job \(context.jobID): "
                  + "\(prepared.argv.joined(separator: " ")) (in \(context.appDirectory))")
        var child: ChildProcess
        do {
            child = try ChildProcess.spawn(executable: prepared.executable, arguments: prepared.argv, environment: environment,
                                           directory: context.appDirectory, memoryLimit: settings.invocation.memoryLimit)
        } catch {
            let failure = ExecutorFailure.launchFailed(command: prepared.argv[0], reason: error.reason)
            pump.note("[ferry] \(Timestamp.now()) \(failure)")
            return notStarted(failure)
        }
        do {
            try JSONFile.write(ExecutorProcessRecord(pid: child.pid, token: token),
                               to: FileSystem.join(directory, PersistentExecutorFiles.process))
        } catch {
            child.abandon()
            let failure = ExecutorFailure.launchFailed(command: prepared.argv[0], reason: "cannot record the executor's process: \(error)")
            pump.note("[ferry] \(Timestamp.now()) \(failure)")
            return notStarted(failure)
        }
        child.release()
        saveRecord { $0.pid = child.pid; $0.starts += 1 }

        // A request number is used up only by a request written: the executor waits for the next in order.
        var current = hand(first, sequence: 1, pid: child.pid, pump: pump, now: clock.now)
        var sequence = current == nil ? 0 : 1
        var stopWrittenAt: ContinuousClock.Instant?
        var stopReason: ExecutorTermination?   // why ferry terminated the process (timeout, cancellation)
        var termSentAt: ContinuousClock.Instant?
        var killSent = false
        var waitStatus: Int32?
        var drainDeadline: ContinuousClock.Instant?
        var open = [true, true]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }

        func terminate(_ why: String, _ now: ContinuousClock.Instant) {
            guard termSentAt == nil else { return }
            pump.note("[ferry] \(Timestamp.now()) \(why): sending SIGTERM to the process group \(child.pid)")
            child.signalGroup(SIGTERM)
            termSentAt = now
        }
        /// Finishes the current task from its done marker, if there is one.
        func collectAnswer(_ now: ContinuousClock.Instant) {
            guard let task = current else { return }
            let donePath = FileSystem.join(directory, PersistentExecutorFiles.done(task.sequence))
            guard FileSystem.exists(donePath) else { return }
            let marker = (try? FileSystem.read(donePath)).flatMap { try? JSONDecoder().decode(PersistentDoneMarker.self, from: Data($0)) }
            let duration = now - task.startedAt
            var outcome: ExecutorOutcome
            if let error = marker?.error ?? (marker?.status == "failed" ? "(no reason given)" : nil) {
                outcome = ExecutorOutcome(termination: .exited(0), duration: duration, stderrTail: pump.stderrTail, result: nil,
                                          failure: .reportedFailure(String(error.prefix(4096))))
            } else {
                outcome = ExecutorOutcome.ended(.exited(0), duration: duration, stderrTail: "", invocation: task.ticket.invocation)
            }
            pump.note("[ferry] \(Timestamp.now()) task \(task.ticket.invocation.context.task) answered after "
                      + "\(String(format: "%.2f", duration.seconds)) s" + (outcome.failure.map { ": \($0)" } ?? ""))
            current = nil
            task.ticket.finish(outcome)
        }

        while true {
            let now = clock.now
            if waitStatus == nil, let status = child.reapIfExited() {
                waitStatus = status
                drainDeadline = now + .seconds(2)
            }
            if waitStatus != nil {
                if !open[0] && !open[1] { break }
                if let d = drainDeadline, now >= d { break }
            } else {
                collectAnswer(now)
                if current == nil, termSentAt == nil, stopWrittenAt == nil, let ticket = takeQueued() {
                    current = hand(ticket, sequence: sequence + 1, pid: child.pid, pump: pump, now: now)
                    if current != nil { sequence += 1 }
                }
                if let task = current, stopReason == nil {
                    if now >= task.deadline {
                        stopReason = .timedOut
                        terminate("task \(task.ticket.invocation.context.task) timed out", now)
                    } else if task.ticket.isCancelled {
                        stopReason = .cancelled
                        terminate("task \(task.ticket.invocation.context.task) cancelled", now)
                    }
                }
                if current == nil, let grace = state.withLock({ $0.stopGrace }) {
                    if stopWrittenAt == nil {
                        stopWrittenAt = now
                        do {
                            try JSONFile.write(["reason": "the job is over on this site"], to: stopFile)
                        } catch {
                            terminate("cannot write the stop file \(stopFile) (\(error))", now)
                        }
                    } else if let written = stopWrittenAt, now - written >= grace {
                        terminate("still running \(DurationText.format(grace)) after the stop request", now)
                    }
                }
                if !killSent, let sent = termSentAt, now - sent >= settings.invocation.killGracePeriod {
                    pump.note("[ferry] \(Timestamp.now()) still running after the grace period: sending SIGKILL")
                    child.signalGroup(SIGKILL)
                    killSent = true
                }
            }
            pump.pump(child, open: &open, buffer: buffer, milliseconds: 50)
        }
        pump.finishAll(child, open: open)

        let now = clock.now
        collectAnswer(now)  // an answer written just before the end counts
        let termination = ExecutorTermination(waitStatus: waitStatus ?? 0)
        let tail = pump.stderrTail
        var crash: String?
        if let task = current {
            let outcome: ExecutorOutcome
            if let reason = stopReason {
                outcome = ExecutorOutcome.ended(reason, duration: now - task.startedAt, stderrTail: tail, invocation: task.ticket.invocation)
            } else {
                crash = "\(termination) while running task \(task.ticket.invocation.context.task)"
                outcome = ExecutorOutcome(termination: termination, duration: now - task.startedAt, stderrTail: tail, result: nil,
                                          failure: .endedBeforeAnswer(termination, stderrTail: tail))
            }
            task.ticket.finish(outcome)
        } else if stopWrittenAt == nil && stopReason == nil && termination != .exited(0) {
            crash = "\(termination) between tasks"
        }
        if let crash {
            let record = saveRecord { $0.crashes += 1; $0.lastCrash = crash }
            let next = record.crashes > settings.restarts
                ? "it is not started again (executor.restarts: \(settings.restarts)): further tasks of the job fail"
                : "it is started again for the next task (restart \(record.crashes) of \(settings.restarts))"
            pump.note("[ferry] \(Timestamp.now()) the persistent executor (pid \(child.pid)) crashed: \(crash); \(next)"
                      + (tail.isEmpty ? "" : "; last lines of its stderr:\n" + tail.trimmingTrailingWhitespace()))
        } else {
            pump.note("[ferry] \(Timestamp.now()) the persistent executor (pid \(child.pid)) \(stopReason.map { "\($0)" } ?? "\(termination)")"
                      + (stopWrittenAt != nil ? " after the stop request" : ""))
        }
    }

    /// A queued task, if any (none after a stop request: ``takeNext()`` cancels them).
    private func takeQueued() -> PersistentTicket? {
        state.withLock { s in s.stopGrace != nil || s.queue.isEmpty ? nil : s.queue.removeFirst() }
    }

    /// Writes the request of `ticket` (after removing stale result files) and returns it as the current task.
    private func hand(_ ticket: PersistentTicket, sequence: Int, pid: Int32, pump: OutputPump,
                      now: ContinuousClock.Instant) -> Current? {
        guard !ticket.isCancelled else {
            ticket.finish(Self.cancelled)
            return nil
        }
        let invocation = ticket.invocation
        let context = invocation.context
        for path in [context.result, invocation.requireOutputModel ? context.outputModel : ""] where !path.isEmpty {
            FileSystem.remove(path)
        }
        var request = PersistentRequest(sequence: sequence, context: context, timeout: invocation.timeout)
        // What the task's invocation sets beyond the process's own (scaffold's FERRY_CONTROL_*).
        let extra = invocation.environment.filter { settings.invocation.environment[$0.key] != $0.value }
        request.environment = extra.isEmpty ? nil : extra
        let path = FileSystem.join(settings.directory, PersistentExecutorFiles.request(sequence))
        do {
            try JSONFile.write(request, to: path)
        } catch {
            ticket.finish(ExecutorOutcome(termination: .notStarted, duration: .zero, stderrTail: "", result: nil,
                                          failure: .launchFailed(command: invocation.command.first ?? "",
                                                                 reason: "cannot write the request \(path): \(error)")))
            return nil
        }
        pump.note("[ferry] \(Timestamp.now()) task \(context.task) (round \(context.round)/\(context.rounds)) handed to the "
                  + "persistent executor (pid \(pid)) as \(PersistentExecutorFiles.request(sequence))")
        return Current(ticket: ticket, sequence: sequence, startedAt: now, deadline: now + invocation.timeout)
    }

    @discardableResult
    private func saveRecord(_ change: (inout PersistentExecutorState) -> Void) -> PersistentExecutorState {
        let record = state.withLock { s -> PersistentExecutorState in
            change(&s.record)
            s.record.updatedAt = Date()
            return s.record
        }
        try? JSONFile.write(record, to: FileSystem.join(settings.directory, PersistentExecutorFiles.state))
        return record
    }
}

/// One task handed to a ``PersistentExecutor``; its outcome once it ended.
public final class PersistentTicket: Sendable {
    /// The task's paths, timeout and context.
    public let invocation: ExecutorInvocation
    private let outcomeBox = Mutex<ExecutorOutcome?>(nil)
    private let cancellation = ExecutorCancellation()
    private let onEnd: @Sendable () -> Void

    init(invocation: ExecutorInvocation, onEnd: @escaping @Sendable () -> Void) {
        self.invocation = invocation
        self.onEnd = onEnd
    }

    /// The outcome once the task ended; nil while it waits or runs.
    public var outcome: ExecutorOutcome? { outcomeBox.withLock { $0 } }
    /// Stops the task: the process is terminated (the next task starts a new one) and the outcome is a cancellation.
    public func cancel() { cancellation.cancel() }
    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool { cancellation.isCancelled }

    func finish(_ outcome: ExecutorOutcome) {
        let first = outcomeBox.withLock { box -> Bool in
            guard box == nil else { return false }
            box = outcome
            return true
        }
        if first { onEnd() }
    }
}

extension ExecutorTermination {
    /// How a process ended, from its wait status.
    init(waitStatus status: Int32) {
        if let code = WaitStatus.exitCode(status) {
            self = .exited(code)
        } else {
            self = .signaled(WaitStatus.signal(status) ?? 0)
        }
    }
}
