import Foundation

/// A project script that starts daemons for tests (`scripts/share.sh`, `scripts/slurm.sh`), run with its
/// output in a file, not a pipe: the daemons it starts must not keep a reader waiting.
public enum DaemonScript {
    /// `scripts/NAME` of this checkout.
    public static func path(_ name: String) -> String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("scripts/" + name).path
    }

    /// Runs `script ARGS`, printing and returning its output (stdout and stderr) with its exit status.
    public static func run(_ script: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-script-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "exec \"$0\" \"$@\" >\"$LOG\" 2>&1", script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["LOG": log]) { $1 }
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (127, "cannot run \(script): \(error)") }
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        print(output, terminator: "")
        return (process.terminationStatus, output)
    }
}
