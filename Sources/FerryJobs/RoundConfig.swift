import Foundation

/// `round_config:` of a server app: values the server sends to the clients with every task, constant
/// or scheduled per round (docs/job-format.md). The executor reads them from the JSON file
/// `FERRY_CONFIG` names (`task.config` in ferry's Python package).
public struct RoundConfig: Sendable, Equatable, Codable {
    /// How one key's value is found for a round.
    public enum Entry: Sendable, Equatable, Codable {
        /// The same value every round.
        case constant(ConfigValue)
        /// `per_round: [a, b, c]`: round N gets the Nth value; later rounds keep the last.
        case perRound([ConfigValue])
        /// `linear: [from, to]`: from `from` in round 1 to `to` in the last round, in equal steps.
        case linear(from: Double, to: Double)
        /// `cosine: [from, to]`: cosine annealing from `from` in round 1 to `to` in the last round.
        case cosine(from: Double, to: Double)
    }

    /// The largest round config one task may carry, as JSON (it travels in the task's manifest).
    public static let maxBytes = 64 << 10

    /// Key → how its value is found.
    public var entries: [String: Entry]

    public init(entries: [String: Entry]) { self.entries = entries }

    /// The values of round `round` (1-based) of a job of `rounds` rounds.
    public func values(round: Int, rounds: Int) -> [String: ConfigValue] {
        let progress = rounds > 1 ? Double(min(max(round, 1), rounds) - 1) / Double(rounds - 1) : 0
        return entries.mapValues { entry in
            switch entry {
            case .constant(let value): value
            case .perRound(let values): values[min(max(round, 1), values.count) - 1]
            case .linear(let from, let to): .number(from + (to - from) * progress)
            case .cosine(let from, let to): .number(to + (from - to) * (1 + cos(Double.pi * progress)) / 2)
            }
        }
    }

    /// The JSON object of round `round` (keys sorted), as sent to the clients.
    public func json(round: Int, rounds: Int) -> String {
        Self.json(values(round: round, rounds: rounds))
    }

    static func json(_ values: [String: ConfigValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding values built from finite numbers and strings cannot fail.
        return (try? String(decoding: encoder.encode(values), as: UTF8.self)) ?? "{}"
    }
}
