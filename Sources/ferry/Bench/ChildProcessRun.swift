import FerryRuntime
import FerrySupport
/// A child process started with posix_spawn, whose exit status and peak RSS are collected with wait4.
final class MeasuredChild {
    let arguments: [String]
    private(set) var pid: pid_t = 0
    /// Exit status (-1 until reaped, or when killed by a signal).
    private(set) var status: Int32 = -1
    /// Peak resident set size of the child, in bytes.
    private(set) var peakResidentBytes: Int64 = 0
    /// When the child was reaped.
    private(set) var ended: ContinuousClock.Instant?

    /// Starts `executable` with `arguments`, stdout and stderr going to `logPath`.
    init(executable: String, arguments: [String], logPath: String) throws {
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else {
            throw BenchError.spawn(command: executable, reason: String(cString: strerror(rc)))
        }
    }

    /// Blocks until the child exits.
    func wait() {
        guard ended == nil else { return }
        var raw: Int32 = 0
        var usage = rusage()
        _ = Syscall.retryingInterrupts { wait4(pid, &raw, 0, &usage) }
        ended = .now
        peakResidentBytes = Int64(usage.ru_maxrss) * 1024
        // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
        status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : -1
    }
}

/// Why a benchmark could not run.
enum BenchError: Error, CustomStringConvertible {
    case spawn(command: String, reason: String)
    case failed(command: String, status: Int32, log: String)
    case mismatch(String)
    case io(String)

    var description: String {
        switch self {
        case let .spawn(command, reason): return "cannot start \(command): \(reason)"
        case let .failed(command, status, log): return "\(command) failed with status \(status); see \(log)"
        case let .io(text): return text
        case let .mismatch(text): return "the received file differs from the source: \(text) (this is a bug; please report it)"
        }
    }
}

/// The path of the running executable (/proc/self/exe on Linux, the loader's path elsewhere).
func currentExecutablePath() -> String {
    LocalFederation.currentExecutable ?? CommandLine.arguments[0]
}
