import FerryJobs
import Foundation
import Synchronization

/// Everything needed to run one client task: the command and environment from the client
/// app's `executor` section (unexpanded), the context values, the log file and the limits.
public struct ExecutorInvocation: Sendable {
    /// argv with `{placeholders}`; `command[0]` is looked up in the app folder first, then on PATH.
    public var command: [String]
    /// Extra environment variables (values may hold placeholders).
    public var environment: [String: String]
    /// Wall-clock limit; past it the process group gets SIGTERM, then SIGKILL after ``killGracePeriod``.
    public var timeout: Duration
    /// Placeholder values and `FERRY_*` variables; `context.appDirectory` is the working directory.
    public var context: ExecutorContext
    /// The log file stdout and stderr are appended to, line by line (created with its folder if missing).
    public var logPath: String
    /// A folder put first on PATH (the directory of the running `ferry` binary), if any.
    public var toolDirectory: String?
    /// Time between SIGTERM and SIGKILL on timeout or cancellation.
    public var killGracePeriod: Duration
    /// Whether a run that exits 0 must also have written `context.outputModel`.
    public var requireOutputModel: Bool
    /// The environment the executor inherits before ferry's additions (default: this process's).
    public var inheritedEnvironment: [String: String]
    /// Where to record the executor's process (``ExecutorProcessRecord``, written atomically before the
    /// executor runs anything), so a restarted watcher can kill an executor its predecessor left running;
    /// nil: not recorded.
    public var processRecordPath: String?
    /// The most memory (bytes) each of the executor's processes may allocate (RLIMIT_DATA, `resources.max_memory`); nil: no limit.
    public var memoryLimit: Int64? = nil

    /// Creates an invocation.
    public init(command: [String], environment: [String: String] = [:], timeout: Duration,
                context: ExecutorContext, logPath: String, toolDirectory: String? = nil,
                killGracePeriod: Duration = .seconds(10), requireOutputModel: Bool = true,
                inheritedEnvironment: [String: String] = ProcessInfo.processInfo.environment,
                processRecordPath: String? = nil) {
        self.command = command
        self.environment = environment
        self.timeout = timeout
        self.context = context
        self.logPath = logPath
        self.toolDirectory = toolDirectory
        self.killGracePeriod = killGracePeriod
        self.requireOutputModel = requireOutputModel
        self.inheritedEnvironment = inheritedEnvironment
        self.processRecordPath = processRecordPath
    }

    /// Creates an invocation from a client app's `executor:` section.
    public init(executor: ExecutorConfig, context: ExecutorContext, logPath: String, toolDirectory: String? = nil,
                killGracePeriod: Duration = .seconds(10), requireOutputModel: Bool = true, processRecordPath: String? = nil) {
        self.init(command: executor.command, environment: executor.env, timeout: executor.timeout, context: context,
                  logPath: logPath, toolDirectory: toolDirectory, killGracePeriod: killGracePeriod,
                  requireOutputModel: requireOutputModel, processRecordPath: processRecordPath)
    }

    /// The directory of the running executable (`ferry`), for ``toolDirectory``.
    public static var currentExecutableDirectory: String? {
        guard let path = Bundle.main.executablePath ?? CommandLine.arguments.first, !path.isEmpty else { return nil }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        return resolved.deletingLastPathComponent().path
    }
}

/// Stops a running executor from another thread or task: its process group gets SIGTERM,
/// then SIGKILL after the grace period, and the outcome is ``ExecutorTermination/cancelled``.
public final class ExecutorCancellation: Sendable {
    private let flag = Mutex(false)

    /// Creates a token that is not cancelled.
    public init() {}

    /// Requests cancellation.
    public func cancel() { flag.withLock { $0 = true } }

    /// Whether cancellation was requested.
    public var isCancelled: Bool { flag.withLock { $0 } }
}
