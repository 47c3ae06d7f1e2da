import Foundation
import Testing

/// Issue 16, evaluation tasks, through the built binary: the cross-site-eval example job under `ferry
/// poc`, its matrix in `ferry status`, `ferry report` and `ferry download`; `ferry job validate` on a
/// bad `evaluate_every`.
@Suite struct EvaluationCLITests {
    @Test(.tags(.spawnsProcesses)) func pocRunsTheCrossSiteEvalExampleAndTheMatrixIsReportedAndDownloaded() throws {
        let dir = try FerryCLI.temporaryDirectory("poc-cross-site")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fed = dir.appendingPathComponent("fed").path
        let job = FerryCLI.repositoryRoot.appendingPathComponent("jobs/hello-cross-site-eval").path
        let r = try FerryCLI.run(["poc", job, "--workspace", fed, "--poll", "50ms"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("finished:completed"), "\(r.stdout)")
        #expect(r.stdout.contains("cross-site evaluation: accuracy"), "\(r.stdout)")
        let header = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("site ") && $0.contains("global") })
        #expect(header.split(separator: " ", omittingEmptySubsequences: true) == ["site", "global", "site-1", "site-2"])
        let id = String(try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("submitted ") }?.split(separator: " ").last))
        let server = fed + "/poc/server"

        // Each local model scores its own site's data better than the global model does.
        let status = try FerryCLI.run(["status", id, "--workspace", server, "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let matrix = try #require(object["cross_site_eval"] as? [String: Any])
        let results = try #require(matrix["results"] as? [String: [String: [String: Any]]])
        for site in ["site-1", "site-2"] {
            let loss = { (model: String) in (results[site]?[model]?["metrics"] as? [String: Double])?["loss"] ?? .nan }
            #expect(loss(site) < loss("global"), "\(site): \(results[site] ?? [:])")
        }
        let text = try FerryCLI.run(["status", id, "--workspace", server])
        #expect(text.stdout.contains("cross-site evaluation: loss"), "\(text.stdout)")

        let out = dir.appendingPathComponent("download").path
        let download = try FerryCLI.run(["download", id, "--workspace", server, "-o", out])
        #expect(download.status == 0, "\(download.stderr)")
        let csv = try String(contentsOfFile: out + "/cross_site_eval.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "site,model,status,num_samples,loss,accuracy,error")
        #expect(csv.count == 1 + 2 * 3)
        #expect(csv.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[2] == "ok" }, "\(csv)")
        let copied = try Data(contentsOf: URL(fileURLWithPath: out + "/cross_site_eval.json"))
        #expect((try JSONSerialization.jsonObject(with: copied) as? [String: Any])?["sites"] as? [String] == ["site-1", "site-2"])

        let html = dir.appendingPathComponent("report.html").path
        let report = try FerryCLI.run(["report", id, "--workspace", fed, "-o", html])
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<h3>Cross-site evaluation</h3>"))
        #expect(page.contains("<th class=\"l\">accuracy</th><th>global</th><th>site-1</th><th>site-2</th>"), "\(page)")
    }

    @Test func validateNamesTheFileLineAndFieldOfABadEvaluateEvery() throws {
        let dir = try FerryCLI.temporaryDirectory("validate-eval")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = dir.appendingPathComponent("job").path
        try FileManager.default.copyItem(atPath: FerryCLI.repositoryRoot.appendingPathComponent("jobs/hello-fedavg").path, toPath: job)
        let server = job + "/apps/server/app.yaml"
        var text = try String(contentsOfFile: server, encoding: .utf8)
        if !text.hasSuffix("\n") { text += "\n" }
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).count
        try (text + "evaluate_every: 5\n").write(toFile: server, atomically: true, encoding: .utf8)
        let r = try FerryCLI.run(["job", "validate", job])
        #expect(r.status == 1)
        #expect(r.stderr.contains("apps/server/app.yaml:\(line):17: error: 'evaluate_every' is 5 but the job runs 3 round(s)"), "\(r.stderr)")
        #expect(r.stderr.contains("hint: use a value from 1 to 3"), "\(r.stderr)")
    }

    @Test func theExampleJobsValidate() throws {
        for name in ["hello-cross-site-eval", "numpy-fedavg"] {
            let r = try FerryCLI.run(["job", "validate", FerryCLI.repositoryRoot.appendingPathComponent("jobs/\(name)").path])
            #expect(r.status == 0, "\(name): \(r.stderr)")
        }
    }
}
