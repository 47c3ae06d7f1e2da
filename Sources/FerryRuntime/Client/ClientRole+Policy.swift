import FerryJobs
import FerrySupport
import Foundation

/// Why the site's policy refuses a job (docs/policy.md).
enum PolicyRefusal: Error, CustomStringConvertible {
    /// `policy.yaml` could not be read or decoded: every job is refused until it is fixed.
    case invalid(JobValidationFailure)
    /// The job breaks these rules.
    case violations([PolicyViolation])

    var description: String {
        switch self {
        case .invalid(let failure):
            let problems = failure.diagnostics.map { d in
                "\(d.file):\(d.line):\(d.column): \(d.message)" + (d.hint.isEmpty ? "" : " (\(d.hint))")
            }
            return "this site's \(SitePolicy.fileName) is invalid, so the site refuses every job until its operator fixes it: "
                + problems.joined(separator: "; ")
        case .violations(let violations):
            return violations.map(\.description).joined(separator: "; ")
        }
    }
}

extension ClientRole {
    /// The site's policy as the file says now (read at every use, so an operator's edit applies to the
    /// next job without a restart).
    func sitePolicy() throws(PolicyRefusal) -> SitePolicy {
        do { return try SitePolicy.load(workspace: workspace.directory) } catch { throw .invalid(error) }
    }

    /// Says in the watcher's log, at start, which policy the site applies.
    func reportPolicy() {
        do {
            let policy = try sitePolicy()
            guard FileSystem.exists(FileSystem.join(workspace.directory, SitePolicy.fileName)) else { return logger.info("no \(SitePolicy.fileName): every job signed by the server runs (docs/policy.md)") }
            var rules = ["approve \(policy.approve.rawValue)", "logs \(policy.logs.rawValue)"]
            if let commands = policy.commands { rules.append("commands \(commands)") }
            if let env = policy.env { rules.append("env \(env)") }
            if let format = policy.toServer { rules.append("results at most \(format.rawValue)") }
            if let privacy = policy.privacy {
                let required = [privacy.exclude.isEmpty ? nil : "exclude", privacy.dpGaussian == nil ? nil : "dp-gaussian",
                                privacy.percentile == nil ? nil : "percentile"].compactMap { $0 }
                rules.append("privacy filters required: \(required.isEmpty ? "none" : required.joined(separator: ", "))")
            }
            if let rounds = policy.maxRounds { rules.append("max_rounds \(rounds)") }
            logger.info("\(SitePolicy.fileName): \(rules.joined(separator: ", "))")
        } catch {
            logger.error("\(error)")
        }
    }

    /// The policy, once the client app `app` of the unpacked job passed it.
    /// - Throws: ``PolicyRefusal`` with every rule the job breaks, or the problems of a broken policy.yaml.
    func checkPolicy(job: String, folder: JobFolder, app: String, config: ClientAppConfig) throws(PolicyRefusal) -> SitePolicy {
        let policy = try sitePolicy()
        let violations = policy.violations(of: config, rounds: folder.serverApp.rounds, appDirectory: folder.appDirectory(app))
        guard violations.isEmpty else { throw .violations(violations) }
        return policy
    }

    /// The `max_rounds` rule a task of round `round` breaks, nil when it may run. The job's rounds were
    /// checked at its deployment; this holds the limit against a server that sends tasks past them. A
    /// broken policy.yaml does not stop the tasks of a job accepted earlier (docs/policy.md).
    func roundBeyondPolicy(_ round: Int) -> PolicyViolation? {
        guard let policy = try? sitePolicy(), let limit = policy.maxRounds, round > limit else { return nil }
        return PolicyViolation(rule: "max_rounds", line: policy.lines["max_rounds"] ?? 1,
                               message: "a task of round \(round) arrived; this site allows at most \(limit)")
    }

    /// Whether a result must go with its job's filter or not at all: the policy requires a filter on
    /// results, or policy.yaml is broken (fail closed).
    func resultFilterRequired() -> Bool? {
        guard let policy = try? sitePolicy() else { return true }
        return policy.toServer == nil ? nil : true
    }

    /// Writes what the policy's `logs:` lets go of job `id`'s log to `snapshot` (atomically); false when
    /// nothing is to be shipped (`logs: none`, a broken policy.yaml) or the snapshot could not be written.
    func writeLogSnapshot(job id: String, to snapshot: String) -> Bool {
        guard let policy = try? sitePolicy() else { return false }
        switch policy.logs {
        case .none:
            return false
        case .all:
            return (try? FileSystem.copy(logPath(id), to: snapshot)) != nil
        case .tail:
            guard let tail = try? LogTail.lastLines(policy.logTailLines, of: logPath(id)) else { return false }
            let note = "[ferry] \(workspace.name): the last \(policy.logTailLines) lines of this site's log of the job (policy.yaml: logs: tail)\n"
            return (try? FileSystem.write(Array(note.utf8) + tail, to: snapshot)) != nil
        }
    }
}

/// The end of a log file, read backwards in growing pieces so a large log is never read whole.
enum LogTail {
    /// The bytes of the last `count` lines of the file at `path` (a last line without a newline counts).
    static func lastLines(_ count: Int, of path: String) throws -> [UInt8] {
        let file = try ReadableFile(path: path)
        let size = try file.regularFileSize()
        var piece: Int64 = 64 << 10
        while true {
            let start = max(0, size - piece)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(size - start), alignment: 16)
            defer { buffer.deallocate() }
            let n = try file.read(into: buffer, at: start)
            let bytes = Array(buffer[0..<n])
            // Newlines that end lines: the file's last byte ends the last line whether or not it is one.
            var seen = 0
            var index = bytes.count - 1
            if index >= 0, bytes[index] == UInt8(ascii: "\n") { index -= 1 }
            while index >= 0 {
                if bytes[index] == UInt8(ascii: "\n") {
                    seen += 1
                    if seen == count { return Array(bytes[(index + 1)...]) }
                }
                index -= 1
            }
            if start == 0 { return bytes }
            piece *= 4
        }
    }
}
