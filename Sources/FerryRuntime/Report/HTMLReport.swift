import FerrySupport
import Foundation

/// The self-contained HTML report of one or more job runs (`ferry report`): inline CSS and SVG, no
/// script and no network. One run: its summary, a chart per metric (each site and the aggregate per
/// round), the bytes per round in each direction with and without quantization, and the round table.
/// Several runs: first a side-by-side comparison (final metrics, bytes, saving, time, and the aggregate
/// metrics of every run per round), then each run's section.
public enum HTMLReport {
    /// The HTML page for `runs` (at least one).
    public static func page(runs: [JobRun], generatedAt: Date = Date()) -> String {
        let title = runs.count == 1 ? "ferry report: \(runs[0].name)" : "ferry report: \(runs.count) jobs compared"
        var body = "<h1>\(HTML.escape(title))</h1>\n"
        body += "<p class=\"meta\">generated \(HTML.escape(generatedAt.formatted(.iso8601)))</p>\n"
        if runs.count > 1 { body += comparison(runs) }
        for run in runs { body += section(run) }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(HTML.escape(title))</title>
        <style>
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
        h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin-top: 1.4em; }
        table { border-collapse: collapse; margin: .6em 0; } th, td { padding: 3px 9px; border-bottom: 1px solid #eee; text-align: right; }
        th { background: #f6f6f6; } td.l, th.l { text-align: left; }
        .ok { color: #1a7f37; } .failed, .timeout, .bad { color: #c62828; } .meta { color: #777; }
        dl { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; } dt { color: #555; } dd { margin: 0; }
        svg { display: block; margin: .6em 0; } svg .axis { stroke: #444; } svg .grid { stroke: #eee; }
        svg .tick { font-size: 10px; fill: #444; } svg .label { font-size: 11px; fill: #333; } svg .chart-title { font-size: 12px; font-weight: 600; }
        .charts { display: flex; flex-wrap: wrap; gap: 0 12px; } .empty { color: #999; }
        </style></head>
        <body>
        \(body)
        </body></html>

        """
    }

    // MARK: One run

    static func section(_ run: JobRun) -> String {
        let traffic = TrafficFigures(run: run)
        var s = "<h2 id=\"job-\(HTML.escape(run.id))\">\(HTML.escape(run.name)) <small class=\"meta\">\(HTML.escape(run.id))</small></h2>\n<dl>"
        let state = run.state.state.rawValue
        s += item("state", "<span class=\"\(run.state.state == .finishedCompleted ? "ok" : run.state.state.isFinished ? "bad" : "")\">\(HTML.escape(state))</span>")
        if let reason = run.state.reason { s += item("reason", HTML.escape(reason)) }
        if let workflow = run.rounds.first?.workflow { s += item("workflow", HTML.escape(workflow)) }
        s += item("rounds", "\(run.rounds.count) of \(run.state.rounds)")
        if let elapsed = run.elapsed { s += item("time", HTML.escape(duration(elapsed))) }
        s += item("to clients", bytesPair(traffic.toClients, traffic.toClientsUnquantized))
        s += item("from clients", bytesPair(traffic.fromClients, traffic.fromClientsUnquantized))
        s += item("saving from quantization", traffic.saving > 0 ? "\(formatFixed(traffic.saving * 100, 1))%" : "none")
        for note in Set(run.rounds.flatMap { $0.notes ?? [] }).sorted() { s += item("note", HTML.escape(note)) }
        if let model = run.finalModel { s += item("final model", "<code>\(HTML.escape(model))</code>") }
        s += "</dl>\n<div class=\"charts\">\n"
        for metric in run.metricNames {
            var series: [SVGChart.Series] = []
            for site in run.siteNames {
                let points = run.rounds.compactMap { r in r.clients[site]?.metrics?[metric].map { (x: Double(r.round), y: $0) } }
                if !points.isEmpty { series.append(.init(label: site, points: points)) }
            }
            let aggregate = run.rounds.compactMap { r in r.aggregate[metric].map { (x: Double(r.round), y: $0) } }
            if !aggregate.isEmpty { series.append(.init(label: "aggregate", points: aggregate, emphasized: true)) }
            s += SVGChart.lines(title: "\(metric) per round", yLabel: metric, series: series) + "\n"
        }
        let rounds = run.rounds.map { (Double($0.round), TrafficFigures(round: $0)) }
        s += SVGChart.bars(title: "bytes per round", yLabel: "bytes", series: [
            .init(label: "to clients, wire", points: rounds.map { (x: $0.0, y: Double($0.1.toClients)) }),
            .init(label: "to clients, unquantized", points: rounds.map { (x: $0.0, y: Double($0.1.toClientsUnquantized)) }),
            .init(label: "from clients, wire", points: rounds.map { (x: $0.0, y: Double($0.1.fromClients)) }),
            .init(label: "from clients, unquantized", points: rounds.map { (x: $0.0, y: Double($0.1.fromClientsUnquantized)) }),
        ], format: { ByteCount.format(Int64($0)) }) + "\n</div>\n"
        s += roundTable(run)
        return s
    }

    static func roundTable(_ run: JobRun) -> String {
        let metrics = run.metricNames
        var s = "<h3>Rounds</h3>\n<table><tr><th>round</th><th class=\"l\">site</th><th class=\"l\">status</th><th>samples</th>"
        s += metrics.map { "<th>\(HTML.escape($0))</th>" }.joined()
        s += "<th>to client (wire / raw)</th><th>from client (wire / raw)</th><th>run time</th><th class=\"l\">error</th></tr>\n"
        for r in run.rounds {
            let sites = r.order ?? r.clients.keys.sorted()
            for site in sites {
                guard let c = r.clients[site] else { continue }
                s += "<tr><td>\(r.round)</td><td class=\"l\">\(HTML.escape(site))</td><td class=\"l \(HTML.escape(c.status))\">\(HTML.escape(c.status))</td>"
                s += "<td>\(c.numSamples.map(String.init) ?? "")</td>"
                s += metrics.map { m in "<td>\(c.metrics?[m].map { formatFixed($0, 4) } ?? "")</td>" }.joined()
                s += "<td>\(bytesPair(c.bytesToClient, c.bytesToClientUnquantized))</td><td>\(bytesPair(c.bytesFromClient, c.bytesFromClientUnquantized))</td>"
                s += "<td>\(c.durationSeconds.map { duration($0) } ?? "")</td><td class=\"l\">\(HTML.escape(c.error ?? ""))</td></tr>\n"
            }
            s += "<tr><td>\(r.round)</td><td class=\"l\"><b>aggregate</b></td><td></td><td></td>"
            s += metrics.map { m in "<td><b>\(r.aggregate[m].map { formatFixed($0, 4) } ?? "")</b></td>" }.joined()
            s += "<td></td><td></td><td>\(duration(r.finishedAt.timeIntervalSince(r.startedAt)))</td><td></td></tr>\n"
        }
        return s + "</table>\n"
    }

    // MARK: Several runs

    static func comparison(_ runs: [JobRun]) -> String {
        let metrics = Array(Set(runs.flatMap(\.metricNames))).sorted { a, b in a == "loss" || (b != "loss" && a < b) }
        var s = "<h2>Comparison</h2>\n<table><tr><th class=\"l\">job</th><th class=\"l\">id</th><th class=\"l\">state</th><th>rounds</th>"
        s += metrics.map { "<th>final \(HTML.escape($0))</th>" }.joined()
        s += "<th>bytes on the wire</th><th>bytes unquantized</th><th>saving</th><th>time</th></tr>\n"
        for run in runs {
            let t = TrafficFigures(run: run)
            let final = run.rounds.last?.aggregate ?? [:]
            s += "<tr><td class=\"l\"><a href=\"#job-\(HTML.escape(run.id))\">\(HTML.escape(run.name))</a></td><td class=\"l\">\(HTML.escape(run.id))</td>"
            s += "<td class=\"l\">\(HTML.escape(run.state.state.rawValue))</td><td>\(run.rounds.count)</td>"
            s += metrics.map { m in "<td>\(final[m].map { formatFixed($0, 4) } ?? "")</td>" }.joined()
            s += "<td>\(ByteCount.format(t.wire))</td><td>\(ByteCount.format(t.unquantized))</td>"
            s += "<td>\(t.saving > 0 ? formatFixed(t.saving * 100, 1) + "%" : "none")</td><td>\(run.elapsed.map { duration($0) } ?? "")</td></tr>\n"
        }
        s += "</table>\n<div class=\"charts\">\n"
        let labels = runLabels(runs)
        for metric in metrics {
            let series = zip(runs, labels).map { run, label in
                SVGChart.Series(label: label, points: run.rounds.compactMap { r in r.aggregate[metric].map { (x: Double(r.round), y: $0) } })
            }.filter { !$0.points.isEmpty }
            s += SVGChart.lines(title: "aggregate \(metric) per round", yLabel: metric, series: series) + "\n"
        }
        let bytes = zip(runs, labels).map { run, label in
            SVGChart.Series(label: label, points: run.rounds.map { (x: Double($0.round), y: Double(TrafficFigures(round: $0).wire)) })
        }
        s += SVGChart.bars(title: "bytes on the wire per round (both directions)", yLabel: "bytes", series: bytes,
                           format: { ByteCount.format(Int64($0)) }) + "\n</div>\n"
        return s
    }

    /// Job names, with the id's suffix where names repeat.
    static func runLabels(_ runs: [JobRun]) -> [String] {
        let names = runs.map(\.name)
        return runs.map { run in names.filter { $0 == run.name }.count > 1 ? "\(run.name) \(run.id.suffix(6))" : run.name }
    }

    // MARK: Helpers

    private static func item(_ key: String, _ html: String) -> String { "<dt>\(HTML.escape(key))</dt><dd>\(html)</dd>" }

    private static func bytesPair(_ wire: Int64, _ raw: Int64) -> String {
        HTML.escape(wire == raw ? ByteCount.format(wire) : "\(ByteCount.format(wire)) / \(ByteCount.format(raw))")
    }

    private static func duration(_ seconds: TimeInterval) -> String {
        DurationText.format(.milliseconds(Int64((seconds * 1000).rounded())))
    }
}
