import FerryRuntime
import FerryExecutor
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The executor's process record (`processRecordPath`, written before the executor runs anything), the
/// descriptors it inherits, and ``ExecutorProcessRecord/stopLeftovers(recordedAt:timeout:)``, which a
/// restarted client watcher uses to kill an executor its predecessor left running.
@Suite struct ExecutorProcessRecordTests {
    private func invocation(_ command: [String], in dir: String, record: String?) throws -> ExecutorInvocation {
        let app = dir + "/app"
        try FileManager.default.createDirectory(atPath: app, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/work", withIntermediateDirectories: true)
        let context = ExecutorContext(inputModel: "", outputModel: dir + "/out.safetensors", result: dir + "/result.json",
                                      round: 1, rounds: 1, site: "site-1", jobID: "20260101-000000-abcdef",
                                      task: "train-r0001", appDirectory: app, workDirectory: dir + "/work")
        return ExecutorInvocation(command: command, timeout: .seconds(600), context: context, logPath: dir + "/task.log",
                                  killGracePeriod: .milliseconds(500), requireOutputModel: false, processRecordPath: record)
    }

    /// Runs `script` with `sh -c` (its braces kept literal) and the process record at `record`.
    private func runScript(_ script: String, in dir: String, record: String) throws -> ExecutorOutcome {
        let literal = script.replacingOccurrences(of: "{", with: "{{").replacingOccurrences(of: "}", with: "}}")
        return ExecutorRunner(try invocation(["sh", "-c", literal], in: dir, record: record)).runBlocking()
    }

    private static let result = #"echo '{"num_samples": 1, "metrics": {}}' > "$FERRY_RESULT""#

    @Test func theProcessIsRecordedBeforeTheExecutorRunsAndItInheritsOnlyStandardDescriptors() throws {
        let dir = try RT.temporaryDirectory("exec-record")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A descriptor of this process without close-on-exec: the executor must not get it.
        let opened = open("/dev/null", O_RDONLY)
        let leaked = fcntl(opened, F_DUPFD, 100)
        close(opened)
        defer { close(leaked) }
        try #require(leaked >= 100)
        let script = """
        cp "$FERRY_WORK_DIR/../executor.json" "$FERRY_WORK_DIR/../record-seen.json"
        echo "$$ $FERRY_EXECUTOR_ID" > "$FERRY_WORK_DIR/../self.txt"
        for fd in 3 \(leaked); do if [ -e "/proc/$$/fd/$fd" ]; then echo "$fd"; fi; done > "$FERRY_WORK_DIR/../fds.txt"
        \(Self.result)
        """
        let record = dir + "/executor.json"
        let outcome = try runScript(script, in: dir, record: record)
        #expect(outcome.failure == nil, "\(String(describing: outcome.failure))")

        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let seen = try decoder.decode(ExecutorProcessRecord.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/record-seen.json")))
        let me = RT.lines(dir + "/self.txt").first?.split(separator: " ").map(String.init) ?? []
        #expect(me.count == 2)
        #expect(String(seen.pid) == me.first, "the record names another process than the executor")
        #expect(seen.processGroup == seen.pid)
        #expect(seen.token == me.last && seen.token.count == 32)
        #expect(seen.startTime != nil)
        // Neither the gate (3) nor a descriptor of the watcher reaches the executor.
        #expect(RT.lines(dir + "/fds.txt").isEmpty, "inherited descriptors: \(RT.lines(dir + "/fds.txt"))")
    }

    @Test func anExecutorWhoseProcessCannotBeRecordedNeverRuns() throws {
        let dir = try RT.temporaryDirectory("exec-unrecorded")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ran = dir + "/ran"
        let outcome = ExecutorRunner(try invocation(["touch", ran], in: dir, record: dir + "/no-such-folder/executor.json")).runBlocking()
        #expect(outcome.termination == .notStarted)
        if case let .launchFailed(_, reason) = outcome.failure {
            #expect(reason.contains("cannot record the executor's process"), "\(reason)")
        } else {
            Issue.record("expected launchFailed, got \(String(describing: outcome.failure))")
        }
        #expect(!FileManager.default.fileExists(atPath: ran), "the executor ran before its process was recorded")
    }

    @Test func aProcessThatLeftTheGroupIsFoundByItsTokenAndKilled() throws {
        let dir = try RT.temporaryDirectory("exec-leftover")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // setsid: a new session, so the group kill when the leader exits does not reach it.
        let script = """
        setsid sleep 3600 < /dev/null > /dev/null 2>&1 &
        echo $! > "$FERRY_WORK_DIR/../escaped.pid"
        # Wait until it leads its own session (field 6 of /proc/PID/stat), out of reach of the group kill.
        n=0
        while [ "$(cut -d' ' -f6 /proc/$!/stat)" != "$!" ] && [ $n -lt 6000 ]; do sleep 0.05; n=$((n + 1)); done
        \(Self.result)
        """
        let record = dir + "/executor.json"
        let outcome = try runScript(script, in: dir, record: record)
        #expect(outcome.failure == nil, "\(String(describing: outcome.failure))")
        let escaped = try #require(RT.lines(dir + "/escaped.pid").first.flatMap { Int32($0) })
        defer { if RT.isAlive(escaped) { kill(escaped, SIGKILL) } }
        #expect(RT.isAlive(escaped), "the escaped process is not running: nothing to find")

        #expect(try ExecutorProcessRecord.stopLeftovers(recordedAt: record, timeout: .seconds(120)) == 1)
        #expect(!RT.isAlive(escaped))
        #expect(try ExecutorProcessRecord.stopLeftovers(recordedAt: record) == 0)
        #expect(try ExecutorProcessRecord.stopLeftovers(recordedAt: dir + "/no-such-record.json") == 0)
    }

    @Test func aLiveProcessThatIsNotTheRecordedExecutorIsLeftAlone() throws {
        let dir = try RT.temporaryDirectory("exec-stranger")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stranger = Process()
        stranger.executableURL = URL(fileURLWithPath: "/bin/sleep")
        stranger.arguments = ["300"]
        try stranger.run()
        defer { kill(stranger.processIdentifier, SIGKILL); stranger.waitUntilExit() }
        let pid = stranger.processIdentifier
        // Same pid and group as the stranger, but another start time and a token nobody carries: a reused pid.
        let record = dir + "/executor.json"
        try """
        {"pid": \(pid), "processGroup": \(pid), "startTime": 1, "token": "00000000000000000000000000000000",
         "startedAt": "2026-01-01T00:00:00Z"}
        """.write(toFile: record, atomically: true, encoding: .utf8)
        #expect(try ExecutorProcessRecord.stopLeftovers(recordedAt: record) == 0)
        #expect(RT.isAlive(pid))
    }
}
