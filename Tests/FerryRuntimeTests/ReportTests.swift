import FerryRuntime
import Foundation
import Testing

/// The HTML report (``HTMLReport``) of a hand-made finished job: legends, line styles, durations,
/// escaping, and user templates.
@Suite struct ReportTests {
    /// Site names that are long, or hold HTML's special characters.
    static let sites = ["site-1", "university-hospital-north-campus-radiology", "site-<a&b>"]

    /// A finished fedavg job folder with two rounds of three sites under `dir`: the job took 2.4 s, each
    /// site's executor 0.34 s, and the sites' losses differ from the aggregate.
    static func jobFolder(in dir: URL) throws -> String {
        let job = dir.appendingPathComponent("20260101-120000-abcdef")
        try FileManager.default.createDirectory(at: job.appendingPathComponent("rounds"), withIntermediateDirectories: true)
        let state = """
        {"id": "20260101-120000-abcdef", "name": "report-test", "state": "finished:completed", "round": 2, "rounds": 2,
         "sites": {}, "bytes_sent": 0, "bytes_received": 0, "bytes_sent_unquantized": 0, "bytes_received_unquantized": 0,
         "started_at": "2026-01-01T12:00:00.000Z", "finished_at": "2026-01-01T12:00:02.400Z", "updated_at": "2026-01-01T12:00:02.400Z"}
        """
        try Data(state.utf8).write(to: job.appendingPathComponent("state.json"))
        for round in 1...2 {
            var clients: [String] = []
            for (i, site) in sites.enumerated() {
                let loss = 0.9 - 0.2 * Double(round) + 0.05 * Double(i)
                let name = site.replacingOccurrences(of: "\"", with: "\\\"")
                clients.append("""
                "\(name)": {"status": "ok", "num_samples": 100, "metrics": {"loss": \(loss), "accuracy": \(0.5 + 0.1 * Double(round))},
                  "duration_s": 0.34, "bytes_to_client": 250000, "bytes_to_client_unquantized": 1000000,
                  "bytes_from_client": 1000000, "bytes_from_client_unquantized": 1000000}
                """)
            }
            let record = """
            {"round": \(round), "workflow": "fedavg", "started_at": "2026-01-01T12:00:0\(round - 1)Z", "finished_at": "2026-01-01T12:00:0\(round)Z",
             "clients": {\(clients.joined(separator: ",\n"))}, "aggregate": {"loss": \(0.95 - 0.2 * Double(round)), "accuracy": \(0.5 + 0.1 * Double(round))},
             "global_model": "models/round-000\(round).safetensors"}
            """
            try Data(record.utf8).write(to: job.appendingPathComponent("rounds/round-000\(round).json"))
        }
        return job.path
    }

    /// The report page of the hand-made job.
    static func page(template: ReportTemplate = .builtIn) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try JobRun(jobDirectory: try jobFolder(in: dir))
        return HTMLReport.page(runs: [run], template: template)
    }

    /// Every `<svg class="chart" …>…</svg>` of `page`.
    static func charts(_ page: String) -> [String] {
        page.components(separatedBy: "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\"").dropFirst()
            .map { String($0[..<($0.range(of: "</svg>")?.upperBound ?? $0.endIndex)]) }
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    @Test func everyLegendLabelIsWholeInTheLegendList() throws {
        let page = try Self.page()
        let labels = Self.sites + ["aggregate", "to clients, on the wire", "to clients, unquantized",
                                   "from clients, on the wire", "from clients, unquantized"]
        let legends = page.components(separatedBy: "<ul class=\"legend\">").dropFirst()
            .map { String($0[..<$0.range(of: "</ul>")!.lowerBound]) }
        #expect(legends.count == 3, "a legend for loss, accuracy and bytes")
        for label in labels {
            #expect(legends.contains { $0.contains("<span>\(Self.escaped(label))</span></li>") }, "legend entry '\(label)' missing or cut")
        }
    }

    @Test func everyTextInsideAChartFitsItsViewBox() throws {
        let page = try Self.page()
        let charts = Self.charts(page)
        #expect(charts.count == 3)
        let text = /<text x="([0-9.]+)"([^>]*)>([^<]*)<\/text>/
        for svg in charts {
            let viewBox = try #require(svg.firstMatch(of: /viewBox="0 0 ([0-9.]+)/))
            let width = try #require(Double(viewBox.1))
            for match in svg.matches(of: text) {
                let x = try #require(Double(match.1))
                let content = String(match.3).replacingOccurrences(of: "&amp;", with: "&")
                // A generous estimate of the width at font size 11: 7 units a character.
                let w = Double(content.count) * 7
                let anchor = match.2.firstMatch(of: /text-anchor="(\w+)"/).map { String($0.1) } ?? "start"
                let (start, end) = anchor == "end" ? (x - w, x) : anchor == "middle" ? (x - w / 2, x + w / 2) : (x, x + w)
                #expect(start >= 0 && end <= width, "'\(content)' at x=\(x) (\(anchor)) does not fit in \(width)")
            }
        }
    }

    @Test func siteLinesLieOverTheDashedAggregateInDistinctColours() throws {
        let page = try Self.page()
        let loss = try #require(Self.charts(page).first)
        let lines = loss.matches(of: /<polyline fill="none" stroke="(#[0-9a-f]{6})" stroke-width="([0-9.]+)"( stroke-dasharray="[^"]+")?/)
        #expect(lines.count == Self.sites.count + 1)
        let aggregate = try #require(lines.first)
        #expect(aggregate.3 != nil, "the aggregate is drawn first, dashed")
        let siteLines = lines.dropFirst()
        #expect(siteLines.allSatisfy { $0.3 == nil }, "site lines are solid")
        #expect(Set(siteLines.map { String($0.1) }).count == Self.sites.count, "each site has its own colour")
        #expect(!siteLines.contains { $0.1 == aggregate.1 })
        #expect(siteLines.allSatisfy { Double($0.2)! >= Double(aggregate.2)! }, "the aggregate is not wider than the sites")
        // Each point has a marker with a tooltip naming its series.
        for site in Self.sites {
            #expect(loss.contains("<title>\(Self.escaped(site)), round 2: "), "\(site) has no marker")
        }
    }

    @Test func fractionalDurationsAreShownAsSuch() throws {
        let page = try Self.page()
        #expect(page.contains("<td>340 ms</td>"), "the sites' 0.34 s run time")
        #expect(page.contains("<div class=\"v\">2.4 s</div>"), "the job's 2.4 s")
        #expect(page.contains("<td>1.0 s</td>"), "the rounds' whole second")
        #expect(!page.contains(">0ms<") && !page.contains(">0 ms<"))
    }

    @Test func textFromTheJobIsEscapedByTheTemplate() throws {
        let page = try Self.page()
        #expect(page.contains("site-&lt;a&amp;b&gt;"))
        #expect(!page.contains("site-<a&b>"))
        #expect(!page.contains("<script"))
    }

    @Test func aUserTemplateRendersTheSameValues() throws {
        let template = try ReportTemplate(text: """
            {{#jobs}}{{name}}|{{state}}|{{time}}|{{#rounds}}{{round}}:{{#sites}}{{site}}={{time}};{{/sites}}{{/rounds}}|{{#charts}}[{{title}}]{{/charts}}{{/jobs}}
            """, source: "mine.mustache")
        let page = try Self.page(template: template)
        #expect(page == "report-test|finished:completed|2.4 s|1:site-1=340 ms;site-&lt;a&amp;b&gt;=340 ms;"
            + "university-hospital-north-campus-radiology=340 ms;2:site-1=340 ms;site-&lt;a&amp;b&gt;=340 ms;"
            + "university-hospital-north-campus-radiology=340 ms;|[loss per round][accuracy per round][bytes per round]")
    }

    @Test func aTemplateThatDoesNotParseNamesFileAndLine() {
        let error = #expect(throws: ReportTemplateError.self) {
            try ReportTemplate(text: "<html>\n{{#jobs}}\n{{/job}}\n", source: "bad.mustache")
        }
        guard case let .syntax(file, line, _, problem) = error else {
            Issue.record("expected a syntax error, got \(String(describing: error))")
            return
        }
        #expect(file == "bad.mustache" && line == 3)
        #expect(problem == "a closing {{/name}} does not match the section it closes")
    }

    @Test func theBuiltInTemplateIsTheDefault() throws {
        #expect(ReportTemplate.builtIn.source == "built-in")
        #expect(DefaultReportTemplate.text.hasPrefix("<!DOCTYPE html>"))
        let page = try Self.page()
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<title>ferry report: report-test</title>"))
    }
}
