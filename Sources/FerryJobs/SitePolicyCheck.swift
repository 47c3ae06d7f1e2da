import FerryQuant
import FerrySupport
import Foundation

/// A rule of `policy.yaml` that a job breaks.
public struct PolicyViolation: Sendable, Equatable, CustomStringConvertible {
    /// The rule: `commands`, `env`, `filters.to_server`, `filters.privacy` or `max_rounds`.
    public var rule: String
    /// The rule's line in `policy.yaml`.
    public var line: Int
    /// What the job does and what the rule allows.
    public var message: String

    /// Creates a violation.
    public init(rule: String, line: Int, message: String) {
        self.rule = rule
        self.line = line
        self.message = message
    }

    /// `policy.yaml:LINE: RULE: MESSAGE`.
    public var description: String { "\(SitePolicy.fileName):\(line): \(rule): \(message)" }
}

extension SitePolicy {
    /// The rules a client app of a job breaks, in file order; empty when the job may run here.
    /// - Parameters:
    ///   - app: the client app the site would run.
    ///   - rounds: the job's number of rounds (its server app's `rounds`).
    ///   - appDirectory: the unpacked app folder, to see whether the job ships a program of the name an
    ///     allowed command expects from this site's PATH; nil skips that check.
    public func violations(of app: ClientAppConfig, rounds: Int, appDirectory: String?) -> [PolicyViolation] {
        var found: [PolicyViolation] = []
        func add(_ rule: String, _ message: String) {
            found.append(PolicyViolation(rule: rule, line: lines[rule] ?? 1, message: message))
        }
        let argv = app.executor.command
        if let commands, let program = argv.first {
            let written = argv.joined(separator: " ")
            if !commands.contains(where: { Self.commandMatches($0, argv: argv) }) {
                add("commands", "'\(written.prefix(300))' does not match any allowed pattern \(Self.list(commands))")
            } else if !program.contains("/"), let appDirectory,
                      FileSystem.exists(FileSystem.join(appDirectory, program)) {
                // The executor looks a bare name up in the app folder before PATH: the job's own file would run.
                add("commands", "the job ships its own '\(program)' in its app folder, which would run instead of this site's '\(program)'")
            }
        }
        if let env {
            let refused = app.executor.env.keys.sorted().filter { name in !env.contains { Self.glob($0, matches: name) } }
            if !refused.isEmpty {
                let names = refused.map { "'\($0)'" }.joined(separator: ", ")
                add("env", "the job sets \(names), not among the allowed variables \(Self.list(env))")
            }
        }
        if let toServer {
            let limit = Self.bitsPerValue(toServer)
            let sent = app.filters.toServer
            if Self.bitsPerValue(sent) > limit {
                let what = sent.map { "with the filter \($0.rawValue) (\(Self.bitsPerValue($0)) bits per value)" }
                    ?? "unfiltered (full precision)"
                let allowed = QuantFormat.allCases.filter { Self.bitsPerValue($0) <= limit }.map(\.rawValue).joined(separator: ", ")
                add("filters.to_server", "the job sends results \(what); this site sends at most \(limit) bits per value (filters.to_server: one of \(allowed))")
            }
        }
        if let privacy {
            for shortfall in privacy.shortfalls(of: app.filters.privacy) { add("filters.privacy", shortfall) }
        }
        if let maxRounds, rounds > maxRounds {
            add("max_rounds", "the job runs \(rounds) rounds; this site allows at most \(maxRounds)")
        }
        return found
    }

    /// Bits each value of a model takes on the wire with `format`: 16 for the casts, 8 for blockwise8,
    /// 4 for the 4-bit formats, 32 without a filter (docs/policy.md, "Precision order").
    public static func bitsPerValue(_ format: QuantFormat?) -> Int {
        guard let format else { return 32 }
        return Int(format.payloadByteCount(elements: 8))
    }

    /// Whether `pattern` allows the command `argv`: a pattern with a space is matched against the whole
    /// command (arguments joined by single spaces), one without against the program alone. The
    /// program's `.` and `..` components are resolved first, so `/opt/fl/bin/../../../bin/sh` is `/bin/sh`.
    static func commandMatches(_ pattern: String, argv: [String]) -> Bool {
        guard let first = argv.first else { return false }
        let program = normalized(first)
        if pattern.contains(" ") {
            return glob(pattern, matches: ([program] + argv.dropFirst()).joined(separator: " "))
        }
        return glob(pattern, matches: program)
    }

    /// fnmatch(3) without flags: `*` and `?` match any character, `/` and spaces included.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        fnmatch(pattern, text, 0) == 0
    }

    /// `path` with its `.` and `..` components resolved lexically (no file system access).
    static func normalized(_ path: String) -> String {
        guard path.contains("/") else { return path }
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." { parts.removeLast() } else if !path.hasPrefix("/") { parts.append(part) }
                continue
            }
            parts.append(part)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    private static func list(_ patterns: [String]) -> String {
        "[" + patterns.map { "'\($0)'" }.joined(separator: ", ") + "]"
    }
}
