import Foundation
import Testing

/// `ferry report` through the built binary: user templates, `--print-template`, and how the page of a
/// real finished job renders in headless Chromium (scripts/report-screenshot.sh).
@Suite struct ReportCLITests {
    /// A finished one-round job folder (state.json and one round record), reported by path.
    static let fixture = FerryCLI.repositoryRoot.appendingPathComponent("Tests/FerryCLITests/Fixtures/report-job").path

    @Test func aTemplateFileReplacesTheBuiltInPage() throws {
        let dir = try FerryCLI.temporaryDirectory("report-tpl")
        defer { try? FileManager.default.removeItem(at: dir) }
        let template = dir.appendingPathComponent("mine.mustache")
        try Data("{{#jobs}}<p>{{name}} {{state}} in {{time}}: {{#rounds}}{{#sites}}{{site}} {{time}}, {{/sites}}{{/rounds}}</p>{{/jobs}}\n".utf8)
            .write(to: template)
        let out = dir.appendingPathComponent("out.html").path
        let r = try FerryCLI.run(["report", Self.fixture, "--template", template.path, "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8)
            == "<p>report-fixture finished:completed in 1.5 s: site-1 250 ms, site-2 750 ms, </p>\n")
    }

    @Test func aTemplateThatDoesNotParseFailsNamingFileAndLine() throws {
        let dir = try FerryCLI.temporaryDirectory("report-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let template = dir.appendingPathComponent("bad.mustache")
        try Data("<html>\n{{#jobs}}\n<p>{{name}}</p>\n{{/job}}\n".utf8).write(to: template)
        let out = dir.appendingPathComponent("out.html").path
        let r = try FerryCLI.run(["report", Self.fixture, "--template", template.path, "-o", out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(template.path):4:"), "\(r.stderr)")
        #expect(r.stderr.contains("does not match"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))

        let missing = try FerryCLI.run(["report", Self.fixture, "--template", dir.appendingPathComponent("none.mustache").path, "-o", out])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("none.mustache: cannot use it as a report template: no such file"), "\(missing.stderr)")
    }

    @Test func printTemplateWritesTheBuiltInTemplate() throws {
        let dir = try FerryCLI.temporaryDirectory("report-print")
        defer { try? FileManager.default.removeItem(at: dir) }
        let printed = try FerryCLI.run(["report", "--print-template"])
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(printed.stdout.hasPrefix("<!DOCTYPE html>") && printed.stdout.contains("{{#jobs}}"))
        // The printed template, given back, makes the same page as the built-in one.
        let template = dir.appendingPathComponent("default.mustache")
        try Data(printed.stdout.utf8).write(to: template)
        let builtIn = try FerryCLI.run(["report", Self.fixture, "-o", "-"])
        let fromFile = try FerryCLI.run(["report", Self.fixture, "--template", template.path, "-o", "-"])
        #expect(builtIn.status == 0 && fromFile.status == 0, "\(builtIn.stderr)\(fromFile.stderr)")
        let undated = { (page: String) in page.replacing(/generated [^<]*/, with: "generated") }
        #expect(undated(builtIn.stdout) == undated(fromFile.stdout))
        #expect(builtIn.stdout.contains("site-1") && builtIn.stdout.contains("<svg"))

        let misuse = try FerryCLI.run(["report", "--print-template", "some-id"])
        #expect(misuse.status == 2)
        #expect(misuse.stderr.contains("--print-template takes no job id"), "\(misuse.stderr)")
    }

    /// Runs jobs/hello-fedavg, reports it and screenshots the page in headless Chromium; skipped (with
    /// the reason printed) where Chromium cannot be installed or started.
    @Test(.tags(.spawnsProcesses)) func theReportOfARealJobRendersInHeadlessChromium() throws {
        let dir = try FerryCLI.temporaryDirectory("report-png")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = FerryCLI.repositoryRoot.appendingPathComponent("jobs/hello-fedavg").path
        let fed = dir.appendingPathComponent("fed").path
        let poc = try FerryCLI.run(["poc", job, "--workspace", fed, "--poll", "50ms"])
        #expect(poc.status == 0, "\(poc.stderr)")
        let id = try #require(poc.stdout.split(separator: "\n").first { $0.hasPrefix("submitted ") }?.split(separator: " ").last)
        let html = dir.appendingPathComponent("report.html").path
        let report = try FerryCLI.run(["report", String(id), "--workspace", fed, "-o", html])
        #expect(report.status == 0, "\(report.stderr)")

        let png = dir.appendingPathComponent("report.png").path
        let shot = try Self.script(["scripts/report-screenshot.sh", html, png])
        if shot.status == 3 {
            print("ReportCLITests: SKIPPED the Chromium screenshot check: \(shot.output.trimmingCharacters(in: .whitespacesAndNewlines))")
            return
        }
        #expect(shot.status == 0, "\(shot.output)")
        let data = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "not a PNG")
        #expect(data.count > 24)
        // IHDR: big-endian width and height at bytes 16 and 20.
        let word = { (at: Int) in data[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        #expect(word(16) == 1200 && word(20) == 1600, "size \(word(16))x\(word(20))")
        // A blank 1200x1600 page compresses to a few KB; charts, tables and text take far more.
        #expect(data.count > 40_000, "\(data.count) bytes: the page looks blank")
    }

    /// Runs `bash` with `arguments` in the repository root; stdout and stderr together.
    static func script(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = arguments
        process.currentDirectoryURL = FerryCLI.repositoryRoot
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-script-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
