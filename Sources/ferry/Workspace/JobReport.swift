import FerrySupport
import FerryWorkspace
import Foundation

/// How `ferry jobs` and `ferry status` present a job: the JSON object of `--json`, and text lines.
enum JobReport {
    /// The `--json` object of a job: every key of `state.json`, plus `abort_requested`, `directory`
    /// (absolute path of the job folder) and `meta` (the contents of `meta.json`). Format in docs/workspaces.md.
    static func json(_ job: JobRecord) throws -> [String: Any] {
        var object = try dictionary(job.state)
        object["abort_requested"] = job.abortRequested
        object["directory"] = job.paths.directory
        object["meta"] = try dictionary(job.meta)
        return object
    }

    /// `value` encoded as the job store encodes it, as a JSON dictionary.
    private static func dictionary<T: Encodable>(_ value: T) throws -> [String: Any] {
        let data = try JobStoreCoding.encoder().encode(value)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// Pretty-printed JSON text with sorted keys and a final newline.
    static func text(_ object: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: object,
                                              options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// `round 2/3` (or `-` before the first round).
    static func progress(_ state: JobStateFile) -> String {
        state.round == 0 && !state.state.isFinished ? "-" : "\(state.round)/\(state.rounds)"
    }

    /// `1.2 MiB (4.8 MiB unquantized, 75% saved)`, or just the size when nothing was saved.
    static func bytes(_ wire: Int64, unquantized: Int64) -> String {
        var text = ByteCount.format(wire)
        if unquantized > wire, unquantized > 0 {
            let saved = Int((Double(unquantized - wire) / Double(unquantized) * 100).rounded())
            text += " (\(ByteCount.format(unquantized)) unquantized, \(saved)% saved)"
        }
        return text
    }

    /// A date as ferry writes it (`2026-11-25T19:05:01Z`).
    static func time(_ date: Date?) -> String { date.map(Timestamp.string) ?? "-" }
}
