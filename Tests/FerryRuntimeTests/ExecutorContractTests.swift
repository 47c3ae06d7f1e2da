import FerryRuntime
import FerryExecutor
import Foundation
import Testing

/// The executor contract (docs/executor-contract.md) through ``ExecutorRunner``: what the process
/// gets (working directory, FERRY_* variables, placeholders, PATH) and how its end is reported.
@Suite struct ExecutorContractTests {
    private func context(_ dir: String) throws -> ExecutorContext {
        let app = dir + "/app"
        try FileManager.default.createDirectory(atPath: app, withIntermediateDirectories: true)
        return ExecutorContext(inputModel: dir + "/in.safetensors", outputModel: dir + "/out.safetensors",
                               result: dir + "/result.json", round: 2, rounds: 5, site: "site-7",
                               jobID: "20260101-000000-abcdef", task: "train-r0002", appDirectory: app,
                               workDirectory: dir + "/work")
    }

    private func invocation(_ command: [String], _ ctx: ExecutorContext, env: [String: String] = [:],
                            timeout: Duration = .seconds(600), requireOutput: Bool = false, tools: String? = nil) -> ExecutorInvocation {
        ExecutorInvocation(command: command, environment: env, timeout: timeout, context: ctx,
                           logPath: ctx.workDirectory + "/../task.log", toolDirectory: tools,
                           killGracePeriod: .milliseconds(500), requireOutputModel: requireOutput)
    }

    @Test func environmentPlaceholdersAndWorkingDirectory() throws {
        let dir = try RT.temporaryDirectory("exec-env")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctx = try context(dir)
        let tools = dir + "/tools"
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        let script = """
        {
          echo "cwd=$(pwd)"
          echo "args=$*"
          for v in FERRY_INPUT_MODEL FERRY_OUTPUT_MODEL FERRY_RESULT FERRY_ROUND FERRY_ROUNDS FERRY_SITE FERRY_JOB_ID FERRY_TASK FERRY_APP_DIR FERRY_WORK_DIR EXTRA; do
            eval "echo $v=\\$$v"
          done
          echo "path=$PATH"
        } > "$FERRY_WORK_DIR/../seen.txt"
        echo '{"num_samples": 12, "metrics": {"loss": 0.25}}' > "$FERRY_RESULT"
        echo "hello from stdout"
        """
        try script.write(toFile: ctx.appDirectory + "/run.sh", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: ctx.workDirectory, withIntermediateDirectories: true)
        let outcome = ExecutorRunner(invocation(["sh", "run.sh", "{round}/{rounds}", "{site}", "{{literal}}"], ctx,
                                                env: ["EXTRA": "job={job_id} task={task}"], tools: tools)).runBlocking()
        #expect(outcome.failure == nil, "\(String(describing: outcome.failure))")
        #expect(outcome.termination == .exited(0))
        #expect(outcome.result?.numSamples == 12)
        #expect(outcome.result?.metrics["loss"] == 0.25)
        let seen = Dictionary(uniqueKeysWithValues: RT.lines(dir + "/seen.txt").compactMap { line -> (String, String)? in
            guard let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        })
        #expect(seen["cwd"] == ctx.appDirectory)
        #expect(seen["args"] == "2/5 site-7 {literal}")
        #expect(seen["FERRY_INPUT_MODEL"] == ctx.inputModel)
        #expect(seen["FERRY_OUTPUT_MODEL"] == ctx.outputModel)
        #expect(seen["FERRY_RESULT"] == ctx.result)
        #expect(seen["FERRY_ROUND"] == "2")
        #expect(seen["FERRY_ROUNDS"] == "5")
        #expect(seen["FERRY_SITE"] == "site-7")
        #expect(seen["FERRY_JOB_ID"] == ctx.jobID)
        #expect(seen["FERRY_TASK"] == "train-r0002")
        #expect(seen["FERRY_APP_DIR"] == ctx.appDirectory)
        #expect(seen["FERRY_WORK_DIR"] == ctx.workDirectory)
        #expect(seen["EXTRA"] == "job=\(ctx.jobID) task=train-r0002")
        #expect(seen["path"]?.hasPrefix(tools + ":") == true)
        let log = (try? String(contentsOfFile: dir + "/task.log", encoding: .utf8)) ?? ""
        #expect(log.contains("hello from stdout"))
    }

    @Test func nonZeroExitReportsStatusAndStderrTail() throws {
        let dir = try RT.temporaryDirectory("exec-exit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctx = try context(dir)
        let outcome = ExecutorRunner(invocation(["sh", "-c", "echo first >&2; echo 'out of memory' >&2; exit 7"], ctx)).runBlocking()
        #expect(outcome.termination == .exited(7))
        guard case let .exitStatus(code, tail) = outcome.failure else {
            Issue.record("expected exitStatus, got \(String(describing: outcome.failure))")
            return
        }
        #expect(code == 7)
        #expect(tail.contains("out of memory"))
        #expect("\(outcome.failure!)".contains("status 7"))
    }

    @Test func timeoutTerminatesTheProcessGroup() throws {
        let dir = try RT.temporaryDirectory("exec-timeout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctx = try context(dir)
        // The timeout must leave `sh` time to start and write its line even on a loaded machine; the
        // command itself would run for an hour.
        let outcome = ExecutorRunner(invocation(["sh", "-c", "echo started >&2; sleep 3600 & wait"], ctx, timeout: .seconds(5))).runBlocking()
        #expect(outcome.termination == .timedOut)
        guard case let .timedOut(_, tail) = outcome.failure else {
            Issue.record("expected timedOut, got \(String(describing: outcome.failure))")
            return
        }
        #expect(tail.contains("started"))
    }

    @Test func missingResultOrModelIsAFailure() throws {
        let dir = try RT.temporaryDirectory("exec-missing")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctx = try context(dir)
        let noResult = ExecutorRunner(invocation(["sh", "-c", "exit 0"], ctx)).runBlocking()
        #expect(noResult.failure == .missingResult(path: ctx.result))
        let noModel = ExecutorRunner(invocation(["sh", "-c", "echo '{{\"num_samples\": 1, \"metrics\": {{}}}}' > \"$FERRY_RESULT\""], ctx,
                                                requireOutput: true)).runBlocking()
        #expect(noModel.failure == .missingOutputModel(path: ctx.outputModel))
        let badResult = ExecutorRunner(invocation(["sh", "-c", "echo '{\"metrics\": 3}' > \"$FERRY_RESULT\""], ctx)).runBlocking()
        if case .invalidResult = badResult.failure {} else {
            Issue.record("expected invalidResult, got \(String(describing: badResult.failure))")
        }
    }

    @Test func unknownCommandAndPlaceholderAreReported() throws {
        let dir = try RT.temporaryDirectory("exec-unknown")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctx = try context(dir)
        let missing = ExecutorRunner(invocation(["no-such-trainer-xyz"], ctx)).runBlocking()
        #expect(missing.termination == .notStarted)
        if case .commandNotFound = missing.failure {} else { Issue.record("\(String(describing: missing.failure))") }
        let placeholder = ExecutorRunner(invocation(["sh", "-c", "true", "{nope}"], ctx)).runBlocking()
        #expect(placeholder.failure == .unknownPlaceholder("nope", in: "{nope}"))
    }
}
