import Foundation
import Synchronization

/// A task handed to the job's ``PersistentExecutor`` (`executor.persistent: true`).
public final class PersistentTaskLauncher: TaskLauncher {
    private let executor: PersistentExecutor
    private let invocation: ExecutorInvocation
    private let onEnd: @Sendable () -> Void
    private let ticket = Mutex<PersistentTicket?>(nil)

    /// A launcher of the task `invocation` describes (its paths, context and timeout) on `executor`;
    /// `onEnd` is called when the task has an outcome.
    public init(executor: PersistentExecutor, invocation: ExecutorInvocation,
                onEnd: @escaping @Sendable () -> Void = {}) {
        self.executor = executor
        self.invocation = invocation
        self.onEnd = onEnd
    }

    public var isLocal: Bool { true }
    public var isStopping: Bool { ticket.withLock { $0?.isCancelled ?? false } }

    public func start() {
        let submitted = executor.submit(invocation, onEnd: onEnd)
        ticket.withLock { $0 = submitted }
    }

    public func poll() -> ExecutorOutcome? { ticket.withLock { $0?.outcome } }
    /// The process is terminated (the job's next task starts a new one); the task has no outcome of its own.
    public func abort() { ticket.withLock { $0?.cancel() } }
    public func detach() { ticket.withLock { $0?.cancel() } }

    public func waitUntilStopped() {
        while ticket.withLock({ $0.map { $0.outcome == nil } ?? false }) { usleep(20_000) }
    }
}
