import FerrySupport
import Foundation
import Synchronization

/// A child process started with posix_spawn as the leader of its own process group, with
/// stdin from /dev/null and stdout/stderr connected to pipes the caller reads.
///
/// The child starts **held**: a tiny shell waits on a socket (the gate) before it changes directory and
/// execs the real command, so the caller can record the process before it runs anything
/// (``release()``). If the caller dies first, the gate reads end-of-file and the shell exits 125
/// without running the command.
struct ChildProcess {
    let pid: pid_t
    /// Read ends of the child's stdout and stderr pipes (close-on-exec in the child).
    let stdoutFD: Int32
    let stderrFD: Int32
    /// The caller's end of the gate (-1 once released or abandoned).
    private var gateFD: Int32

    struct SpawnError: Error { var reason: String }

    /// Exit status of a held child whose gate closed without a release.
    static let abandonedStatus: Int32 = 125

    /// Serializes ferry's own spawns, so no child inherits another's pipe ends in the moment before
    /// they are marked close-on-exec (pipe2 is not exported by Glibc's module).
    private static let spawnLock = Mutex(())

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+; not exported by Glibc's module), so the
    /// child inherits no descriptor of the watcher beyond 0–3; nil where the C library lacks it.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        #if os(Linux)
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
        #else
        return nil
        #endif
    }()

    /// Starts `executable` with `arguments` (argv, argv[0] included) in `directory`, held until ``release()``;
    /// `memoryLimit` (bytes) becomes the RLIMIT_DATA of the command and everything it starts (heap and
    /// private writable mappings: what allocations use, not the address ranges CUDA only reserves).
    static func spawn(executable: String, arguments: [String], environment: [String: String],
                      directory: String, memoryLimit: Int64? = nil) throws(SpawnError) -> ChildProcess {
        try spawnLock.withLock { _ throws(SpawnError) -> ChildProcess in
            try spawnLocked(executable: executable, arguments: arguments, environment: environment, directory: directory,
                            memoryLimit: memoryLimit)
        }
    }

    private static func spawnLocked(executable: String, arguments: [String], environment: [String: String],
                                    directory: String, memoryLimit: Int64?) throws(SpawnError) -> ChildProcess {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        var gate: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw SpawnError(reason: "pipe: \(errnoText())") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw SpawnError(reason: "pipe: \(errnoText())")
        }
        // The gate is a socket pair, not a pipe: the release is sent without SIGPIPE, so a held child
        // that died meanwhile cannot kill the watcher. gate[0] is the child's end.
        #if canImport(Glibc)
        let stream = Int32(SOCK_STREAM.rawValue)
        #else
        let stream = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, stream, 0, &gate) == 0 else {
            for fd in outPipe + errPipe { close(fd) }
            throw SpawnError(reason: "socketpair: \(errnoText())")
        }
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(gate[1], SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        // Close-on-exec, so the child keeps only the dup2'ed ends (pipe2 is not exported by Glibc's module).
        for fd in outPipe + errPipe + gate { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        if gate[0] == 3 {
            // dup2(3, 3) would keep close-on-exec on some C libraries: move it out of the way.
            let moved = fcntl(3, F_DUPFD_CLOEXEC, 4)
            guard moved >= 0 else {
                for fd in outPipe + errPipe + gate { close(fd) }
                throw SpawnError(reason: "fcntl: \(errnoText())")
            }
            close(3)
            gate[0] = moved
        }
        defer { close(outPipe[1]); close(errPipe[1]); close(gate[0]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        posix_spawn_file_actions_adddup2(&actions, gate[0], 3)
        if let addCloseFrom = Self.addCloseFrom { _ = addCloseFrom(&actions, 4) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new process group (so a timeout kills the executor and everything it started),
        // an empty signal mask and default handlers for the signals a parent may have changed.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        // A tiny shell waits for the gate, closes it, changes directory (posix_spawn_file_actions_addchdir_np
        // is not exported by Glibc's module) and then execs the real command (same pid, same process group).
        let limit = memoryLimit.map { "ulimit -d \(max(1, $0 / 1024)) || exit 126; " } ?? ""
        let script = "read -r ferry_gate <&3 || exit \(abandonedStatus); exec 3<&-; \(limit)cd -- \"$0\" || exit 126; exec \"$@\""
        let launcher = ["/bin/sh", "-c", script, directory, executable] + arguments.dropFirst()
        let argv = launcher.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0]); close(gate[1])
            throw SpawnError(reason: String(cString: strerror(rc)))
        }
        return ChildProcess(pid: pid, stdoutFD: outPipe[0], stderrFD: errPipe[0], gateFD: gate[1])
    }

    /// Lets the held child run its command.
    mutating func release() {
        guard gateFD >= 0 else { return }
        var newline: UInt8 = 0x0a
        #if os(Linux)
        let flags = Int32(MSG_NOSIGNAL)
        #else
        let flags: Int32 = 0  // SO_NOSIGPIPE is set on the socket
        #endif
        _ = Syscall.retryingInterrupts { send(gateFD, &newline, 1, flags) }
        close(gateFD)
        gateFD = -1
    }

    /// Stops a held child without running its command: closes the gate, kills the group, reaps the
    /// child and closes the output pipes.
    mutating func abandon() {
        if gateFD >= 0 { close(gateFD); gateFD = -1 }
        signalGroup(SIGKILL)
        var status: Int32 = 0
        _ = Syscall.retryingInterrupts { waitpid(pid, &status, 0) }
        close(stdoutFD)
        close(stderrFD)
    }

    /// Sends `signal` to the child's whole process group.
    func signalGroup(_ signal: Int32) {
        _ = kill(-pid, signal)
    }

    /// If the leader has exited: kills what is left of its group (while the zombie still holds
    /// the group id, so it cannot be reused), reaps it and returns its wait status.
    func reapIfExited() -> Int32? {
        var info = siginfo_t()
        let rc = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        if rc != 0 {
            // ECHILD: someone else reaped it (SIGCHLD ignored); report a plain failure.
            return errno == ECHILD ? (1 << 8) : nil
        }
        guard info.si_signo == SIGCHLD else { return nil }
        signalGroup(SIGKILL)
        var status: Int32 = 0
        _ = Syscall.retryingInterrupts { waitpid(pid, &status, 0) }
        return status
    }
}

/// `errno` as text.
func errnoText() -> String { String(cString: strerror(errno)) }

/// Decodes a wait status into exit code or signal.
enum WaitStatus {
    static func exitCode(_ status: Int32) -> Int32? { status & 0x7f == 0 ? (status >> 8) & 0xff : nil }
    static func signal(_ status: Int32) -> Int32? { status & 0x7f == 0 ? nil : status & 0x7f }
}
