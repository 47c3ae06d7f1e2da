import FerrySupport
import FerryWorkspace
import Foundation

/// The plain-text end-of-run summary of a job (`ferry poc`): a table of rounds with the aggregate
/// metrics and the bytes each way, totals with the saving from quantization, and the final model.
public enum JobSummary {
    /// The summary of `run`.
    public static func text(_ run: JobRun) -> String {
        var out = "\(run.name) (\(run.id)): \(run.state.state.rawValue)"
        if let elapsed = run.elapsed { out += " in \(DurationText.format(.milliseconds(Int64(elapsed * 1000))))" }
        out += "\n"
        if let reason = run.state.reason, run.state.state != .finishedCompleted { out += "reason: \(reason)\n" }
        let metrics = run.metricNames
        var header = ["round", "clients"] + metrics + ["to clients (wire/raw)", "from clients (wire/raw)", "time"]
        var rows: [[String]] = []
        for r in run.rounds {
            let ok = r.clients.values.filter { $0.status == "ok" }.count
            let bytes = TrafficFigures(round: r)
            var row = ["\(r.round)", "\(ok)/\(r.clients.count)"]
            row += metrics.map { r.aggregate[$0].map { formatFixed($0, 4) } ?? "-" }
            row.append(pair(bytes.toClients, bytes.toClientsUnquantized))
            row.append(pair(bytes.fromClients, bytes.fromClientsUnquantized))
            row.append(DurationText.format(.milliseconds(Int64(r.finishedAt.timeIntervalSince(r.startedAt) * 1000))))
            rows.append(row)
        }
        if rows.isEmpty {
            out += "no round finished\n"
        } else {
            if run.rounds.contains(where: { $0.workflow == "cyclic" }) { header[1] = "sites" }
            out += table(header: header, rows: rows)
            let total = TrafficFigures(run: run)
            out += "bytes on the wire: \(ByteCount.format(total.wire)) (\(ByteCount.format(total.unquantized)) before quantization)"
            out += total.saving > 0 ? "; quantization saved \(formatFixed(total.saving * 100, 1))%\n" : "; no saving from quantization\n"
            if let first = run.rounds.first?.aggregate["loss"], let last = run.rounds.last?.aggregate["loss"], run.rounds.count > 1 {
                out += "loss: \(formatFixed(first, 4)) → \(formatFixed(last, 4))\n"
            }
        }
        out += run.evaluationText
        if let matrix = run.crossSiteEval { out += matrix.text }
        for note in Set(run.rounds.flatMap { $0.notes ?? [] }).sorted() { out += "note: \(note)\n" }
        if let model = run.finalModel { out += "final model: \(model)\n" }
        return out
    }

    /// `wire / unquantized` (one figure when they are equal).
    static func pair(_ wire: Int64, _ raw: Int64) -> String {
        wire == raw ? ByteCount.format(wire) : "\(ByteCount.format(wire)) / \(ByteCount.format(raw))"
    }

    /// Left-aligned columns separated by two spaces.
    static func table(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (i, cell) in cells.enumerated() {
                text += cell + (i == cells.count - 1 ? "" : String(repeating: " ", count: widths[i] - cell.count + 2))
            }
            return text + "\n"
        }
        return ([line(header)] + rows.map(line)).joined()
    }
}
