import FerryJobs
import Foundation

/// The batch script ferry submits for a task under `launcher: slurm`: `#SBATCH` lines from the task's
/// request, the executor contract's variables exported, and the command run under `srun`. Its exit
/// status is the executor's; it is also written to ``exitStatusPath`` for a watcher that finds the job
/// gone from Slurm's memory (docs/hpc.md).
public struct SlurmBatchScript: Sendable, Equatable {
    /// The whole script.
    public let text: String

    /// Renders the script of `invocation` with `request` (already merged with the site's defaults).
    /// - Parameters:
    ///   - jobName: `--job-name`, by which a restarted watcher finds a job it submitted.
    ///   - stderrPath: `--error` (stdout goes to the job's log, `invocation.logPath`).
    ///   - exitStatusPath: where the script writes the command's exit status.
    /// - Throws: ``ExecutorFailure`` for an unknown placeholder, an empty command or an executable that is
    ///   not found (looked up here, on the submitting host: the cluster's nodes share its filesystem).
    public init(invocation: ExecutorInvocation, request: SlurmRequest, jobName: String, stderrPath: String,
                exitStatusPath: String) throws(ExecutorFailure) {
        let runner = ExecutorRunner(invocation)
        let prepared = try runner.prepare(token: ExecutorProcessRecord.newToken())
        let context = invocation.context
        var lines = [
            "#!/bin/bash",
            "# Written by ferry for task \(context.task) (round \(context.round)/\(context.rounds)) of job \(context.jobID) at site \(context.site).",
            "# Submitted with `sbatch --parsable`; see docs/hpc.md.",
        ]
        func option(_ name: String, _ value: String) { lines.append("#SBATCH --\(name)=\(Self.directiveValue(value))") }
        option("job-name", jobName)
        option("output", invocation.logPath)
        option("error", stderrPath)
        option("open-mode", "append")
        option("chdir", context.appDirectory)
        if let partition = request.partition { option("partition", partition) }
        if let account = request.account { option("account", account) }
        if let time = request.time { option("time", Self.slurmTime(time)) }
        if let nodes = request.nodes { option("nodes", String(nodes)) }
        if let perNode = request.ntasksPerNode { option("ntasks-per-node", String(perNode)) }
        if let cpus = request.cpusPerTask { option("cpus-per-task", String(cpus)) }
        if let gpus = request.gpus, gpus > 0 { option("gpus", String(gpus)) }
        if let mem = request.mem { option("mem", "\((mem + (1 << 20) - 1) >> 20)M") }
        for extra in request.extra { lines.append("#SBATCH \(extra)") }
        lines.append("")
        // The contract's variables and the app's env, as ferry would set them for a local executor.
        let exported = Set(context.environmentVariables.keys).union(invocation.environment.keys)
            .union(["PATH", ExecutorProcessRecord.tokenVariable])
        for key in exported.sorted() {
            lines.append("export \(key)=\(Self.quote(prepared.environment[key] ?? ""))")
        }
        if (request.nodes ?? 1) > 1 {
            lines.append("# Multi-node: the first node is the rendezvous host of torchrun and similar launchers.")
            lines.append("export MASTER_ADDR=\"$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\"")
            lines.append("export MASTER_PORT=\"${MASTER_PORT:-29500}\"")
        }
        lines.append("echo \"[ferry] $(date -u +%Y-%m-%dT%H:%M:%SZ) Slurm job $SLURM_JOB_ID started on $(hostname)\"")
        let argv = [prepared.executable] + prepared.argv.dropFirst()
        lines.append("srun --kill-on-bad-exit=1 " + argv.map(Self.quote).joined(separator: " "))
        lines.append("status=$?")
        lines.append("printf '%s\\n' \"$status\" > \(Self.quote(exitStatusPath + ".tmp")) && mv -f \(Self.quote(exitStatusPath + ".tmp")) \(Self.quote(exitStatusPath))")
        lines.append("exit $status")
        text = lines.joined(separator: "\n") + "\n"
    }

    /// `text` in single quotes for the shell.
    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// An `#SBATCH` value, double-quoted when it holds spaces.
    private static func directiveValue(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\t" }) ? "\"\(value)\"" : value
    }

    /// A duration in Slurm's `D-HH:MM:SS`, rounded up to whole minutes.
    public static func slurmTime(_ duration: Duration) -> String {
        let minutes = max(1, (duration.components.seconds + 59) / 60)
        return String(format: "%lld-%02lld:%02lld:00", minutes / 1440, (minutes % 1440) / 60, minutes % 60)
    }
}
