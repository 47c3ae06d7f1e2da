import Foundation
import Testing

/// `ferry poc` and `ferry report` through the built binary: each poc run provisions a federation in a
/// temporary folder and runs `ferry watch` for every site as a separate process.
@Suite(.tags(.spawnsProcesses)) struct RuntimeCLITests {
    /// A copy of jobs/hello-fedavg under `dir/name` with `rounds` rounds and extra client env lines.
    private func helloJob(in dir: URL, name: String, rounds: Int = 3, clientEnv: [String: String] = [:]) throws -> URL {
        let source = FerryCLI.repositoryRoot.appendingPathComponent("jobs/hello-fedavg")
        let job = dir.appendingPathComponent(name)
        try FileManager.default.copyItem(at: source, to: job)
        let server = job.appendingPathComponent("apps/server/app.yaml")
        let text = try String(contentsOf: server, encoding: .utf8).replacingOccurrences(of: "rounds: 3", with: "rounds: \(rounds)")
        try text.write(to: server, atomically: true, encoding: .utf8)
        if !clientEnv.isEmpty {
            let client = job.appendingPathComponent("apps/client/app.yaml")
            var lines = try String(contentsOf: client, encoding: .utf8)
            let extra = clientEnv.map { "    \($0.key): \"\($0.value)\"" }.joined(separator: "\n")
            lines = lines.replacingOccurrences(of: "  env:\n", with: "  env:\n" + extra + "\n")
            try lines.write(to: client, atomically: true, encoding: .utf8)
        }
        return job
    }

    @Test func pocRunsHelloFedavgWithFallingLossAndReports() throws {
        let dir = try FerryCLI.temporaryDirectory("poc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = FerryCLI.repositoryRoot.appendingPathComponent("jobs/hello-fedavg").path
        let r = try FerryCLI.run(["poc", job, "--workspace", dir.appendingPathComponent("fed").path, "--poll", "50ms"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("round 3/3 done"))
        #expect(r.stdout.contains("finished:completed"))
        #expect(r.stdout.contains("watchers stopped"))
        // The summary's loss line: first round → last round, falling.
        let lossLine = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("loss: ") })
        let values = lossLine.dropFirst(6).components(separatedBy: " → ").compactMap { Double($0) }
        #expect(values.count == 2 && values[1] < values[0], "\(lossLine)")
        let modelLine = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("final model: ") })
        #expect(FileManager.default.fileExists(atPath: String(modelLine.dropFirst("final model: ".count))))

        // The report of that job: one HTML file, inline SVG, nothing fetched.
        let id = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("submitted ") }?.split(separator: " ").last)
        let html = dir.appendingPathComponent("report.html").path
        let report = try FerryCLI.run(["report", String(id), "--workspace", dir.appendingPathComponent("fed").path, "-o", html])
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<svg"))
        #expect(page.contains("loss per round"))
        #expect(page.contains("bytes per round"))
        #expect(!page.contains("<script"))
        #expect(!page.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
    }

    @Test func pocOfASweepFolderRunsEveryJob() throws {
        let dir = try FerryCLI.temporaryDirectory("poc-sweep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sweep = dir.appendingPathComponent("sweep")
        try FileManager.default.createDirectory(at: sweep, withIntermediateDirectories: true)
        _ = try helloJob(in: sweep, name: "lr-a", rounds: 1)
        _ = try helloJob(in: sweep, name: "lr-b", rounds: 1)
        let r = try FerryCLI.run(["poc", sweep.path, "--workspace", dir.appendingPathComponent("fed").path, "--poll", "50ms",
                                  "--polling-only", "--max-jobs", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.components(separatedBy: "submitted hello-fedavg as job").count == 3)
        #expect(r.stdout.components(separatedBy: "): finished:completed in").count == 3)
        // Several ids: a comparison page.
        let ids = r.stdout.split(separator: "\n").filter { $0.hasPrefix("submitted ") }.compactMap { $0.split(separator: " ").last.map(String.init) }
        let html = dir.appendingPathComponent("compare.html").path
        let report = try FerryCLI.run(["report"] + ids + ["--workspace", dir.appendingPathComponent("fed").path, "-o", html])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try String(contentsOfFile: html, encoding: .utf8).contains("Comparison"))
    }

    @Test func pocReusingAFederationSaysWhenClientsIsIgnored() throws {
        let dir = try FerryCLI.temporaryDirectory("poc-reuse")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try helloJob(in: dir, name: "once", rounds: 1)
        let fed = dir.appendingPathComponent("fed").path
        let first = try FerryCLI.run(["poc", job.path, "--workspace", fed, "--poll", "50ms"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("(provisioned)"))
        let second = try FerryCLI.run(["poc", job.path, "--workspace", fed, "--poll", "50ms", "--clients", "3"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("(reused)"))
        #expect(second.stderr.contains("--clients 3 ignored"), "\(second.stderr)")
    }

    @Test func pocExitsOneWithTheReasonWhenTheJobFails() throws {
        let dir = try FerryCLI.temporaryDirectory("poc-fail")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try helloJob(in: dir, name: "failing", rounds: 1, clientEnv: ["TRAINER_FAIL_SITE": "site-2"])
        let r = try FerryCLI.run(["poc", job.path, "--workspace", dir.appendingPathComponent("fed").path, "--poll", "50ms"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("finished:failed"), "\(r.stderr)")
        #expect(r.stdout.contains("site-2: failed: the executor exited with status 3"), "\(r.stdout)")
    }

    @Test func aMissingExecutorProgramIsNamedOncePerPlace() throws {
        let dir = try FerryCLI.temporaryDirectory("poc-missing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try helloJob(in: dir, name: "missing", rounds: 1)
        let client = job.appendingPathComponent("apps/client/app.yaml")
        let text = try String(contentsOf: client, encoding: .utf8)
            .replacingOccurrences(of: "command: [ferry-example-trainer,", with: "command: [no-such-trainer,")
        try text.write(to: client, atomically: true, encoding: .utf8)
        let fed = dir.appendingPathComponent("fed").path
        let path = "/usr/local/bin:/usr/bin:/bin"
        let r = try FerryCLI.run(["poc", job.path, "--workspace", fed, "--poll", "50ms"], environment: ["PATH": path])
        #expect(r.status == 1)
        let output = r.stdout + r.stderr
        let message = "the executor program 'no-such-trainer' is not on PATH ("
        // Both sites fail the same way: the poc output names the program (and shows PATH) once.
        #expect(output.components(separatedBy: message).count == 2, "\(output)")
        #expect(output.components(separatedBy: ":/usr/bin:/bin").count == 2, "\(output)")
        #expect(output.contains("site-1, site-2: failed: " + message), "\(output)")
        #expect(output.contains("install it on this site, give its absolute path in executor.command, or put it in the app's folder"))
        #expect(!output.contains("/job/apps/client"), "the app folder's path is left out: \(output)")

        let server = fed + "/poc/server"
        let status = try FerryCLI.run(["status", "2", "--workspace", server])
        #expect(status.stdout.components(separatedBy: message).count == 2, "\(status.stdout)")
        let log = try FerryCLI.run(["logs", "2", "--site", "site-1", "--workspace", server])
        #expect(log.stdout.components(separatedBy: message).count == 2, "\(log.stdout)")
    }

    @Test func pocRefusesAFolderWithoutJobs() throws {
        let dir = try FerryCLI.temporaryDirectory("poc-usage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try FerryCLI.run(["poc", dir.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("not a job folder"))
    }

    @Test(.enabled(if: FerryCLI.pythonHasNumpy, "python3 with numpy is not installed"))
    func pocRunsTheNumpyExample() throws {
        let dir = try FerryCLI.temporaryDirectory("poc-numpy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = FerryCLI.repositoryRoot.appendingPathComponent("jobs/numpy-fedavg").path
        let r = try FerryCLI.run(["poc", job, "--workspace", dir.appendingPathComponent("fed").path, "--poll", "50ms"],
                                 environment: FerryCLI.pythonPackageEnvironment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("round 3/3 done"))
        let lossLine = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("loss: ") })
        let values = lossLine.dropFirst(6).components(separatedBy: " → ").compactMap { Double($0) }
        #expect(values.count == 2 && values[1] < values[0], "\(lossLine)")
    }
}

extension Tag {
    /// Tests that start `ferry poc`, hence `ferry watch` child processes.
    @Tag static var spawnsProcesses: Self
}

/// The example jobs validate (llm-sft is not run here: it needs PyTorch).
@Suite struct ExampleJobTests {
    @Test(arguments: ["hello-fedavg", "numpy-fedavg", "llm-sft"])
    func exampleJobValidates(name: String) throws {
        let r = try FerryCLI.run(["job", "validate", FerryCLI.repositoryRoot.appendingPathComponent("jobs/\(name)").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("ok: \(name)"))
    }
}
