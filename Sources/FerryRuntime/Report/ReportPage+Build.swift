import FerrySupport
import FerryWorkspace
import Foundation

extension ReportPage {
    /// The page for `runs` (at least one).
    init(runs: [JobRun], generatedAt: Date) {
        title = runs.count == 1 ? "ferry report: \(runs[0].name)" : "ferry report: \(runs.count) jobs compared"
        self.generatedAt = Timestamp.string(generatedAt)
        jobCount = runs.count
        comparison = runs.count > 1 ? ReportComparison(runs: runs) : nil
        jobs = runs.map { ReportJob(run: $0) }
    }
}

extension ReportComparison {
    init(runs: [JobRun]) {
        let metrics = Array(Set(runs.flatMap(\.metricNames))).sorted { a, b in a == "loss" || (b != "loss" && a < b) }
        self.metrics = metrics
        rows = runs.map { run in
            let traffic = TrafficFigures(run: run)
            let final = run.rounds.last?.aggregate ?? [:]
            return Row(name: run.name, id: run.id, anchor: ReportJob.anchor(run.id),
                       state: run.state.state.rawValue, stateClass: ReportJob.stateClass(run.state.state),
                       rounds: run.rounds.count, finals: metrics.map { final[$0].map(ReportFormat.metric) ?? "" },
                       wire: ByteCount.format(traffic.wire), unquantized: ByteCount.format(traffic.unquantized),
                       saving: ReportFormat.saving(traffic.saving), time: run.elapsed.map(ReportFormat.duration) ?? "")
        }
        let labels = Self.labels(runs)
        var charts = metrics.map { metric in
            let series = zip(runs, labels).enumerated().map { i, pair in
                SVGChart.Series(label: pair.1, points: pair.0.rounds.compactMap { r in r.aggregate[metric].map { (x: Double(r.round), y: $0) } },
                                style: .peer(i))
            }.filter { !$0.points.isEmpty }
            return SVGChart.lines(title: "aggregate \(metric) per round", series: series)
        }
        let bytes = zip(runs, labels).enumerated().map { i, pair in
            SVGChart.Series(label: pair.1, points: pair.0.rounds.map { (x: Double($0.round), y: Double(TrafficFigures(round: $0).wire)) },
                            style: .bar(SVGChart.palette[i % SVGChart.palette.count]))
        }
        charts.append(SVGChart.bars(title: "bytes on the wire per round (both directions)", series: bytes))
        self.charts = charts
    }

    /// Job names, with the id's suffix where names repeat.
    static func labels(_ runs: [JobRun]) -> [String] {
        let names = runs.map(\.name)
        return runs.map { run in names.filter { $0 == run.name }.count > 1 ? "\(run.name) \(run.id.suffix(6))" : run.name }
    }
}

extension ReportJob {
    init(run: JobRun) {
        let traffic = TrafficFigures(run: run)
        id = run.id
        name = run.name
        anchor = Self.anchor(run.id)
        state = run.state.state.rawValue
        stateClass = Self.stateClass(run.state.state)
        reason = run.state.reason
        workflow = run.rounds.first?.workflow
        roundsDone = run.rounds.count
        roundsPlanned = run.state.rounds
        time = run.elapsed.map(ReportFormat.duration)
        toClients = ReportFormat.bytesPair(traffic.toClients, traffic.toClientsUnquantized)
        fromClients = ReportFormat.bytesPair(traffic.fromClients, traffic.fromClientsUnquantized)
        toClientsWire = ByteCount.format(traffic.toClients)
        toClientsUnquantized = ByteCount.format(traffic.toClientsUnquantized)
        fromClientsWire = ByteCount.format(traffic.fromClients)
        fromClientsUnquantized = ByteCount.format(traffic.fromClientsUnquantized)
        wire = ByteCount.format(traffic.wire)
        unquantized = ByteCount.format(traffic.unquantized)
        saving = ReportFormat.saving(traffic.saving)
        notes = Set(run.rounds.flatMap { $0.notes ?? [] }).sorted()
        finalModel = run.finalModel
        let metrics = run.metricNames
        self.metrics = metrics
        charts = Self.charts(run, metrics: metrics)
        rounds = run.rounds.map { r in
            let sites = (r.order ?? r.clients.keys.sorted()).compactMap { site in
                r.clients[site].map { c in
                    ReportSiteRow(site: site, status: c.status, statusClass: c.status == "ok" ? "ok" : "bad",
                                  samples: c.numSamples.map(String.init) ?? "",
                                  values: metrics.map { c.metrics?[$0].map(ReportFormat.metric) ?? "" },
                                  toClient: ReportFormat.bytesPair(c.bytesToClient, c.bytesToClientUnquantized),
                                  fromClient: ReportFormat.bytesPair(c.bytesFromClient, c.bytesFromClientUnquantized),
                                  time: c.durationSeconds.map(ReportFormat.duration) ?? "", error: c.error)
                }
            }
            return ReportRound(round: r.round, time: ReportFormat.duration(r.finishedAt.timeIntervalSince(r.startedAt)),
                               sites: sites, aggregate: metrics.map { r.aggregate[$0].map(ReportFormat.metric) ?? "" })
        }
        hasRounds = !rounds.isEmpty
        hasErrors = rounds.contains { $0.sites.contains { $0.error != nil } }
        evaluation = ReportEvaluation(run: run)
        crossSiteEval = run.crossSiteEval.map(ReportMatrix.init)
    }

    /// A chart per metric (each site, then the aggregate per round) and the bytes per round.
    private static func charts(_ run: JobRun, metrics: [String]) -> [ReportChart] {
        var charts = metrics.map { metric in
            var series: [SVGChart.Series] = []
            for (i, site) in run.siteNames.enumerated() {
                let points = run.rounds.compactMap { r in r.clients[site]?.metrics?[metric].map { (x: Double(r.round), y: $0) } }
                if !points.isEmpty { series.append(.init(label: site, points: points, style: .peer(i))) }
            }
            let aggregate = run.rounds.compactMap { r in r.aggregate[metric].map { (x: Double(r.round), y: $0) } }
            if !aggregate.isEmpty { series.append(.init(label: "aggregate", points: aggregate, style: .aggregate)) }
            return SVGChart.lines(title: "\(metric) per round", series: series)
        }
        charts += ReportEvaluation.charts(run)
        charts += stepCharts(run.paths.liveMetricsHistories())
        let rounds = run.rounds.map { (x: Double($0.round), bytes: TrafficFigures(round: $0)) }
        // Each direction one hue: dark on the wire, light before quantization.
        charts.append(SVGChart.bars(title: "bytes per round", series: [
            .init(label: "to clients, on the wire", points: rounds.map { ($0.x, Double($0.bytes.toClients)) }, style: .bar("#1f77b4")),
            .init(label: "to clients, unquantized", points: rounds.map { ($0.x, Double($0.bytes.toClientsUnquantized)) }, style: .bar("#aec7e8")),
            .init(label: "from clients, on the wire", points: rounds.map { ($0.x, Double($0.bytes.fromClients)) }, style: .bar("#ff7f0e")),
            .init(label: "from clients, unquantized", points: rounds.map { ($0.x, Double($0.bytes.fromClientsUnquantized)) }, style: .bar("#ffbb78")),
        ]))
        return charts
    }

    /// A chart per live metric: each site's records over its steps counted across tasks.
    private static func stepCharts(_ histories: [String: [LiveMetricsPoint]]) -> [ReportChart] {
        let names = Set(histories.values.flatMap { $0.flatMap(\.metrics.keys) })
            .sorted { a, b in a == "loss" ? b != "loss" : b == "loss" ? false : a < b }
        return names.map { metric in
            let series = histories.keys.sorted().enumerated().compactMap { i, site -> SVGChart.Series? in
                let points = histories[site]!.compactMap { p in p.metrics[metric].map { (x: Double(p.step), y: $0) } }
                return points.isEmpty ? nil : .init(label: site, points: points, style: .peer(i))
            }
            return SVGChart.lines(title: "\(metric) per step (live metrics)", series: series, xLabel: "step",
                                  markers: series.allSatisfy { $0.points.count <= 40 })
        }
    }

    /// The page anchor of a job's section.
    static func anchor(_ id: String) -> String { "job-" + id }

    /// `ok` for a completed job, `bad` for another final state, `running` otherwise.
    static func stateClass(_ state: JobState) -> String {
        state == .finishedCompleted ? "ok" : state.isFinished ? "bad" : "running"
    }
}
