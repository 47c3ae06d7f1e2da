import FerryShareHarness
import Foundation

/// A real one-node Slurm for tests: `scripts/slurm.sh start` (installs slurmctld, slurmd and munge with
/// apt-get when missing), once per test process.
///
/// Where it cannot start (not root, no apt, daemons refusing), ``available(for:)`` prints
/// `SKIPPED <test>: <reason>` and returns false; the test then returns without asserting anything.
/// `FERRY_SKIP_SLURM_TESTS=1` skips them the same way.
enum SlurmHarness {
    /// Nil when Slurm runs, else why not.
    private static let problem: String? = {
        if ProcessInfo.processInfo.environment["FERRY_SKIP_SLURM_TESTS"] == "1" { return "FERRY_SKIP_SLURM_TESTS=1" }
        let (status, output) = DaemonScript.run(DaemonScript.path("slurm.sh"), ["start"])
        guard status == 0 else {
            return "no Slurm here: " + (output.split(separator: "\n").last.map(String.init) ?? "scripts/slurm.sh exited with \(status)")
        }
        return nil
    }()

    /// Whether Slurm runs; prints why `test` is skipped when not.
    static func available(for test: String) -> Bool {
        guard let problem else { return true }
        print("SKIPPED \(test): \(problem)")
        return false
    }

    /// Runs a Slurm command (`scontrol`, `squeue`…) to its end: its status and its output.
    @discardableResult
    static func command(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (127, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The state of Slurm job `id` (`PENDING`, `RUNNING`, `CANCELLED`…), or "" when Slurm does not know it.
    static func state(of id: String) -> String {
        let line = command(["scontrol", "show", "job", id, "--oneliner"]).output
        guard let range = line.range(of: "JobState=") else { return "" }
        return String(line[range.upperBound...].prefix { $0 != " " })
    }

    /// The ids of this user's jobs named `name` that Slurm knows (queued, running or recently ended).
    static func jobs(named name: String) -> [String] {
        command(["squeue", "--me", "--states=all", "--noheader", "--format=%i", "--name=\(name)"]).output
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Cancels every job of ferry job `id` that Slurm still runs or queues (a failed test leaves none behind).
    static func cancelJobs(ofJob id: String) {
        let listed = command(["squeue", "--me", "--noheader", "--format=%i %j"]).output
        for line in listed.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[1].hasPrefix("ferry-\(id)-") { command(["scancel", String(parts[0])]) }
        }
    }
}
