import Foundation

extension ExecutorOutcome {
    /// The outcome of an executor that ended with `termination` (a local process or a Slurm job): on
    /// exit 0 the result file is loaded and the output model checked; otherwise the matching failure.
    static func ended(_ termination: ExecutorTermination, duration: Duration, stderrTail tail: String,
                      invocation: ExecutorInvocation, failure override: ExecutorFailure? = nil) -> ExecutorOutcome {
        let context = invocation.context
        var result: ExecutorResult?
        var failure: ExecutorFailure?
        switch termination {
        case .exited(0):
            do {
                result = try ExecutorResult.load(path: context.result)
                if invocation.requireOutputModel, !context.outputModel.isEmpty,
                   !FileManager.default.fileExists(atPath: context.outputModel) {
                    result = nil
                    failure = .missingOutputModel(path: context.outputModel)
                }
            } catch {
                failure = error
            }
        case let .exited(code): failure = .exitStatus(code, stderrTail: tail)
        case let .signaled(signal): failure = .signaled(signal, stderrTail: tail)
        case .timedOut: failure = .timedOut(after: invocation.timeout, stderrTail: tail)
        case .cancelled, .notStarted: failure = .cancelled
        }
        if let override, termination != .exited(0) { failure = override }
        return ExecutorOutcome(termination: termination, duration: duration, stderrTail: tail, result: result, failure: failure)
    }
}
