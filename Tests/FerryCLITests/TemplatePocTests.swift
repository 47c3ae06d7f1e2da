import Foundation
import Testing

/// Issue 7's end-to-end promise: built-in templates render with their defaults and run under
/// `ferry poc`, and a sweep folder runs to completion and can be compared with `ferry report`.
@Suite(.tags(.spawnsProcesses)) struct TemplatePocTests {
    private static let templates = FerryCLI.repositoryRoot.appendingPathComponent("templates").path

    /// Renders `template` into `dir/name` with the given settings; returns the job folder.
    private func render(_ template: String, in dir: URL, name: String, settings: [String] = []) throws -> URL {
        let job = dir.appendingPathComponent(name)
        let sets = settings.flatMap { ["--set", $0] }
        let r = try FerryCLI.run(["job", "create", job.path, "--template", template, "--templates", Self.templates] + sets)
        #expect(r.status == 0, "\(r.stderr)")
        return job
    }

    private func poc(_ path: URL, workspace: URL, extra: [String] = []) throws -> FerryCLI.Result {
        try FerryCLI.run(["poc", path.path, "--workspace", workspace.path, "--poll", "50ms"] + extra,
                         environment: FerryCLI.pythonPackageEnvironment)
    }

    @Test(arguments: ["fedavg", "cyclic"])
    func builtInTemplateRendersWithDefaultsAndRuns(template: String) throws {
        let dir = try FerryCLI.temporaryDirectory("tpl-\(template)")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Defaults, except fewer rounds to keep the test short.
        let job = try render(template, in: dir, name: template, settings: ["rounds=2"])
        let r = try poc(job, workspace: dir.appendingPathComponent("fed"))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("finished:completed"), "\(r.stdout)")
        #expect(r.stdout.contains("final model: "))
    }

    @Test(.enabled(if: FerryCLI.pythonHasNumpy, "python3 with numpy is not installed"))
    func fedavgPythonTemplateRunsWhereNumpyExists() throws {
        let dir = try FerryCLI.temporaryDirectory("tpl-python")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try render("fedavg-python", in: dir, name: "py", settings: ["rounds=2"])
        let r = try poc(job, workspace: dir.appendingPathComponent("fed"))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("finished:completed"), "\(r.stdout)")
    }

    @Test func llmSftTemplateRendersAValidJob() throws {
        let dir = try FerryCLI.temporaryDirectory("tpl-llm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try render("llm-sft", in: dir, name: "llm")
        let v = try FerryCLI.run(["job", "validate", job.path])
        #expect(v.status == 0, "\(v.stderr)")
    }

    @Test func fourCombinationSweepRunsToCompletionAndCompares() throws {
        let dir = try FerryCLI.temporaryDirectory("tpl-sweep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sweep = dir.appendingPathComponent("sweep")
        let create = try FerryCLI.run(["job", "create", sweep.path, "--template", "fedavg", "--templates", Self.templates,
                                       "--sweep", "quantization=fp16,nf4", "--sweep", "rounds=1,2"])
        #expect(create.status == 0, "\(create.stderr)")
        let jobs = try FileManager.default.contentsOfDirectory(atPath: sweep.path).filter { !$0.hasPrefix(".") }
        #expect(jobs.count == 4, "\(jobs)")

        let workspace = dir.appendingPathComponent("fed")
        let r = try poc(sweep, workspace: workspace, extra: ["--max-jobs", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.components(separatedBy: "): finished:completed in").count == 5, "\(r.stdout)")

        let ids = r.stdout.split(separator: "\n").filter { $0.hasPrefix("submitted ") }
            .compactMap { $0.split(separator: " ").last.map(String.init) }
        #expect(ids.count == 4)
        let html = dir.appendingPathComponent("compare.html").path
        let report = try FerryCLI.run(["report"] + ids + ["--workspace", workspace.appendingPathComponent("poc/server").path,
                                                          "-o", html])
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("Comparison"))
        for name in jobs { #expect(page.contains(name), "\(name) missing from the comparison") }
    }
}
