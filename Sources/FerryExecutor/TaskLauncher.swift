import Foundation
import Synchronization

/// Runs one client task somewhere and reports when it ended: ``LocalTaskLauncher`` (a child process of
/// the watcher) or ``SlurmTaskLauncher`` (a Slurm batch job). The watcher calls ``start()`` once, then
/// ``poll()`` on every pass until it returns the outcome; none of them blocks for long.
public protocol TaskLauncher: AnyObject, Sendable {
    /// Whether the task runs on this machine (counts against `--max-jobs`; `ferry watch --once` waits for it).
    var isLocal: Bool { get }
    /// Whether ``abort()`` or ``detach()`` was called (an outcome after that is not the task's own).
    var isStopping: Bool { get }
    /// Starts the task, or re-attaches to the one a previous watcher started.
    func start()
    /// The outcome once the task has ended; nil while it runs (or waits in a queue).
    func poll() -> ExecutorOutcome?
    /// Stops the task for good (job aborted or deleted): the process is terminated, the Slurm job cancelled.
    func abort()
    /// The watcher stops: a local executor is stopped (the task runs again at the next start); a Slurm job
    /// is left to run, and the next watcher re-attaches to it.
    func detach()
    /// Waits until nothing of the task runs in this process any more (after ``abort()`` or ``detach()``).
    func waitUntilStopped()
}

/// A task run as a child process of the watcher by ``ExecutorRunner`` on a thread of its own.
public final class LocalTaskLauncher: TaskLauncher {
    private let invocation: ExecutorInvocation
    private let cancellation = ExecutorCancellation()
    private let outcome = Mutex<ExecutorOutcome?>(nil)
    private let finished = Mutex(true)
    private let onEnd: @Sendable () -> Void

    /// A launcher of `invocation`; `onEnd` is called (on the executor's thread) when it has ended.
    public init(_ invocation: ExecutorInvocation, onEnd: @escaping @Sendable () -> Void = {}) {
        self.invocation = invocation
        self.onEnd = onEnd
    }

    public var isLocal: Bool { true }
    public var isStopping: Bool { cancellation.isCancelled }

    public func start() {
        finished.withLock { $0 = false }
        let invocation = self.invocation, cancellation = self.cancellation
        let thread = Thread { [self] in
            let result = ExecutorRunner(invocation).runBlocking(cancellation: cancellation)
            outcome.withLock { $0 = result }
            finished.withLock { $0 = true }
            onEnd()
        }
        thread.name = "ferry-exec-\(invocation.context.task)"
        thread.start()
    }

    public func poll() -> ExecutorOutcome? { outcome.withLock { $0 } }
    public func abort() { cancellation.cancel() }
    public func detach() { cancellation.cancel() }

    public func waitUntilStopped() {
        while !finished.withLock({ $0 }) { usleep(20_000) }
    }
}
