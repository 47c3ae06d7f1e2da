import FerrySupport
import Foundation

/// A `ferry watch WORKSPACE` child process of the local federation. Its standard output and error go
/// to `<workspace>/logs/watch.out`, so a watcher that dies early can be explained.
public final class WatcherProcess: @unchecked Sendable {
    /// The site workspace it watches.
    public let workspace: String
    /// The site's name.
    public let site: String
    /// Where its output goes.
    public let outputPath: String
    private let process: Process

    /// Starts `binary watch workspace arguments…`.
    public init(binary: String, workspace: String, site: String, arguments: [String]) throws {
        self.workspace = workspace
        self.site = site
        let logs = FileSystem.join(workspace, "logs")
        try FileSystem.makeDirectory(logs)
        outputPath = FileSystem.join(logs, "watch.out")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        guard let output = FileHandle(forWritingAtPath: outputPath) else {
            throw RuntimeError.fileUnwritable(path: outputPath, reason: "cannot open the watcher's output file")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["watch", workspace] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            throw RuntimeError.federation("cannot start `\(binary) watch \(workspace)`: \(error.localizedDescription)")
        }
        try? output.close()
    }

    /// The child's process id.
    public var pid: Int32 { process.processIdentifier }

    /// Whether the child still runs.
    public var isRunning: Bool { process.isRunning }

    /// The exit status once it has ended.
    public var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// The last `lines` lines of its output.
    public func outputTail(lines: Int = 10) -> String {
        guard let text = try? String(contentsOfFile: outputPath, encoding: .utf8) else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
    }

    /// Sends `signal` to the child (SIGTERM: clean stop; SIGKILL: crash simulation).
    public func send(_ signal: Int32) {
        guard process.isRunning else { return }
        _ = kill(process.processIdentifier, signal)
    }

    /// Waits up to `timeout` for the child to end; true when it has.
    @discardableResult
    public func wait(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            usleep(20_000)
        }
        return true
    }

    /// SIGTERM, then SIGKILL when it has not ended after `grace`.
    public func stop(grace: Duration = .seconds(10)) {
        send(SIGTERM)
        if !wait(timeout: grace) {
            send(SIGKILL)
            wait(timeout: .seconds(5))
        }
    }
}
