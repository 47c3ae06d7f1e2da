import Foundation
import Synchronization
import Testing

/// Runs the built `ferry` binary (it sits beside the test bundle in the build folder).
struct FerryCLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `ferry` executable built with the tests.
    static let binary: URL = {
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("ferry")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return exe.appendingPathComponent("ferry")
    }()

    /// Runs `ferry` with `arguments` in `directory` and collects its output.
    @discardableResult
    /// A run still going after `failsafe` seconds is killed and recorded as an issue, so a hang fails
    /// its test instead of stalling the whole suite.
    static func run(_ arguments: [String], in directory: URL? = nil,
                    environment: [String: String] = [:], failsafe: TimeInterval = 900) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let killed = Mutex(false)
        let watchdog = DispatchWorkItem {
            killed.withLock { $0 = true }
            kill(pid, SIGKILL)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + failsafe, execute: watchdog)
        defer {
            watchdog.cancel()
            if killed.withLock({ $0 }) {
                Issue.record("ferry \(arguments.joined(separator: " ")) did not exit within \(Int(failsafe)) s: killed")
            }
        }
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = readAll(err.fileHandleForReading)
            group.leave()
        }
        let outData = readAll(out.fileHandleForReading)
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Reads `handle` to its end, retrying reads interrupted by a signal (Foundation's
    /// readDataToEndOfFile traps on EINTR, which other tests' child processes can cause).
    private static func readAll(_ handle: FileHandle) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
            if count > 0 { data.append(contentsOf: buffer[0..<count]); continue }
            if count < 0, errno == EINTR { continue }
            return data
        }
    }

    /// Waits for `process` to exit, at most `failsafe` (a hang fails the test instead of the suite):
    /// whether it exited by itself. A process still running then is killed.
    @discardableResult
    static func waitForExit(_ process: Process, failsafe: TimeInterval = 120) -> Bool {
        let deadline = Date().addingTimeInterval(failsafe)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        Issue.record("\(process.executableURL?.lastPathComponent ?? "process") \(process.arguments ?? []) did not exit within \(Int(failsafe)) s")
        return false
    }

    /// A fresh temporary directory, removed by the caller when done.
    static func temporaryDirectory(_ label: String = "cli") throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// True when `python3 -c code` exits 0 (tests needing python3 modules skip otherwise).
    static func python(_ code: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", code]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Whether python3 with numpy is available.
    static let pythonHasNumpy = python("import numpy")

    /// The environment that lets executors import ferry's Python package from this checkout
    /// (`python/`), as python/README.md documents for sites that do not `pip install` it.
    static var pythonPackageEnvironment: [String: String] {
        let package = repositoryRoot.appendingPathComponent("python").path
        let existing = ProcessInfo.processInfo.environment["PYTHONPATH"].map { ":" + $0 } ?? ""
        return ["PYTHONPATH": package + existing]
    }

    /// The repository root (for the example jobs and templates), found from this source file.
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

@Suite struct CLIBasicsTests {
    @Test func helpExitsZeroAndListsGroups() throws {
        let r = try FerryCLI.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("job"))
        #expect(r.stdout.contains("model"))
    }

    @Test func usageErrorFoundWhileRunningShowsTheSubcommandsUsage() throws {
        let r = try FerryCLI.run(["job", "validate", "/nonexistent/job"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("does not exist"))
        #expect(r.stderr.contains("USAGE: ferry job validate"), "\(r.stderr)")
        #expect(r.stderr.contains("See 'ferry job validate --help'"))
    }

    @Test func unknownFlagIsUsageErrorWithExitTwo() throws {
        let r = try FerryCLI.run(["--no-such-flag"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("no-such-flag"))
    }

}
