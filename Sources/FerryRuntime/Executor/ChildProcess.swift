import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with posix_spawn as the leader of its own process group, with
/// stdin from /dev/null and stdout/stderr connected to pipes the caller reads.
struct ChildProcess {
    let pid: pid_t
    /// Read ends of the child's stdout and stderr pipes (close-on-exec in the child).
    let stdoutFD: Int32
    let stderrFD: Int32

    struct SpawnError: Error { var reason: String }

    /// Starts `executable` with `arguments` (argv, argv[0] included) in `directory`.
    static func spawn(executable: String, arguments: [String], environment: [String: String],
                      directory: String) throws(SpawnError) -> ChildProcess {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw SpawnError(reason: "pipe: \(errnoText())") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw SpawnError(reason: "pipe: \(errnoText())")
        }
        // Close-on-exec, so the child keeps only the dup2'ed ends (pipe2 is not exported by Glibc's module).
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(outPipe[1]); close(errPipe[1]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

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

        // posix_spawn_file_actions_addchdir_np is not exported by Glibc's module: a tiny shell
        // changes directory and then execs the real command (same pid, same process group).
        let launcher = ["/bin/sh", "-c", "cd -- \"$0\" || exit 126; exec \"$@\"", directory, executable]
            + arguments.dropFirst()
        let argv = launcher.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw SpawnError(reason: String(cString: strerror(rc)))
        }
        return ChildProcess(pid: pid, stdoutFD: outPipe[0], stderrFD: errPipe[0])
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
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
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
