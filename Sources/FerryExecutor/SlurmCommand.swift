import FerrySupport
import Foundation

/// Runs one of Slurm's commands (`sbatch`, `squeue`, `scontrol`, `sacct`, `scancel`) to its end and
/// captures what it prints. The commands are looked up on PATH.
struct SlurmCommand {
    /// What a command did.
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var succeeded: Bool { status == 0 }
        /// stderr, or stdout when stderr is empty, on one line.
        var message: String {
            let text = stderr.isEmpty ? stdout : stderr
            return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " / ")
        }
    }

    /// The environment Slurm's commands run with: the watcher's, less the `SLURM_*`/`SBATCH_*` variables
    /// of a watcher that itself runs as a Slurm job (they would shape the submitted job).
    static func environment(_ base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        base.filter { key, _ in key == "SLURM_CONF" || !(key.hasPrefix("SLURM_") || key.hasPrefix("SBATCH_") || key.hasPrefix("SALLOC_")) }
    }

    /// Runs `arguments` (argv[0] a Slurm command) in `directory`; gives up after `timeout`.
    static func run(_ arguments: [String], directory: String = "/", timeout: Duration = .seconds(60)) -> Output {
        let env = environment()
        let path = env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        guard let executable = locate(arguments[0], path: path) else {
            return Output(status: 127, stdout: "", stderr: "\(arguments[0]) is not on PATH (\(path)): is this a Slurm login node?")
        }
        var child: ChildProcess
        do {
            child = try ChildProcess.spawn(executable: executable, arguments: arguments, environment: env, directory: directory)
        } catch {
            return Output(status: 127, stdout: "", stderr: "cannot start \(arguments[0]): \(error.reason)")
        }
        child.release()
        let deadline = ContinuousClock.now + timeout
        var data: [[UInt8]] = [[], []]
        var open = [true, true]
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        var status: Int32?
        while open[0] || open[1] {
            if ContinuousClock.now >= deadline {
                child.signalGroup(SIGKILL)
                break
            }
            var fds = [pollfd(fd: open[0] ? child.stdoutFD : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: open[1] ? child.stderrFD : -1, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, 100) > 0 else { continue }
            for i in 0..<2 where open[i] && fds[i].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { raw in
                    Syscall.retryingInterrupts { read(fds[i].fd, raw.baseAddress, raw.count) }
                }
                if n > 0 { data[i].append(contentsOf: buffer[0..<n]) } else { open[i] = false }
            }
        }
        close(child.stdoutFD)
        close(child.stderrFD)
        while status == nil {
            status = child.reapIfExited()
            if status == nil { usleep(5_000) }
        }
        let code = WaitStatus.exitCode(status!) ?? 128 + (WaitStatus.signal(status!) ?? 0)
        func text(_ bytes: [UInt8]) -> String {
            String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return Output(status: code, stdout: text(data[0]), stderr: text(data[1]))
    }

    private static func locate(_ name: String, path: String) -> String? {
        if name.hasPrefix("/") { return name }
        for dir in path.split(separator: ":") {
            let candidate = FileSystem.join(String(dir), name)
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
