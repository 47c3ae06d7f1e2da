import FerrySupport
import FerryWorkspace
import Foundation

/// The jobs waiting for approval at a client site and the operator's decisions on them (`ferry approvals`,
/// `ferry approve`, `ferry reject`). It only reads the job folders and drops request files: the site's
/// watcher acts on them (docs/policy.md).
public struct SiteApprovals: Sendable {
    /// The client workspace folder.
    public let directory: String
    /// The site's name.
    public let site: String

    /// Opens the client workspace at `path` (its `site.yaml` must say `role: client`).
    public init(workspace path: String) throws(ApprovalError) {
        let directory = FileSystem.absolute(path)
        let config: SiteConfig
        do { config = try SiteConfig.load(path: FileSystem.join(directory, "site.yaml")) } catch {
            throw .workspace(path: path, reason: "\(error)")
        }
        guard config.role == .client else {
            throw .workspace(path: path, reason: "this is the \(config.role.rawValue) workspace of '\(config.name)'; approvals are given at a client site: pass --workspace with a client's workspace")
        }
        self.directory = directory
        site = config.name
    }

    private var jobsDirectory: String { FileSystem.join(directory, "jobs") }
    private func file(_ id: String, _ name: String) -> String { FileSystem.join(jobsDirectory, id, name) }

    /// The jobs waiting for a decision, oldest first, with the decision already requested (nil: none yet).
    public func pending() -> [(job: PendingApproval, requested: ApprovalDecision?)] {
        FileSystem.list(jobsDirectory).filter { !$0.hasPrefix(".") }.compactMap { id -> (PendingApproval, ApprovalDecision?)? in
            guard state(id) == nil, let job = try? JSONFile.readIfPresent(PendingApproval.self, from: file(id, PendingApproval.fileName))
            else { return nil }
            return (job, requested(id))
        }.sorted { ($0.0.receivedAt, $0.0.job) < ($1.0.receivedAt, $1.0.job) }
    }

    /// Asks the watcher to approve or reject the pending job `id` (a full id or a unique prefix).
    /// - Returns: the job, and whether this decision was already requested (nothing written then).
    /// - Throws: ``ApprovalError`` when no job or several match, the job waits for nothing, or the other
    ///   decision was requested.
    @discardableResult
    public func request(_ decision: ApprovalDecision, id: String, reason: String? = nil) throws(ApprovalError)
        -> (job: PendingApproval, alreadyRequested: Bool) {
        let ids = FileSystem.list(jobsDirectory).filter { !$0.hasPrefix(".") }
        let matches = ids.contains(id) ? [id] : ids.filter { $0.hasPrefix(id) }.sorted()
        guard matches.count == 1, let match = matches.first else {
            throw matches.isEmpty ? .noSuchJob(id: id, site: site, pending: pending().map(\.job.job))
                                  : .ambiguous(id: id, matches: matches)
        }
        if let state = state(match) { throw .notPending(id: match, state: state) }
        guard let job = try? JSONFile.readIfPresent(PendingApproval.self, from: file(match, PendingApproval.fileName)) else {
            throw .notPending(id: match, state: "it does not wait for approval (this site's policy did not ask for it, or it is still being unpacked)")
        }
        if let earlier = requested(match) {
            guard earlier == decision else { throw .otherDecision(id: match, requested: earlier) }
            return (job, true)
        }
        let path = file(match, decision.requestFile)
        do { try JSONFile.write(ApprovalRequest(reason: reason), to: path) } catch {
            throw .io(path: path, reason: "\(error)")
        }
        return (job, false)
    }

    /// What became of job `id` when it no longer waits (deployed, refused, stopped), nil while it waits.
    private func state(_ id: String) -> String? {
        if FileSystem.exists(file(id, "aborted.json")) { return "the server stopped it" }
        if FileSystem.exists(file(id, "refused.json")) { return "it was refused at this site (see its log)" }
        if FileSystem.exists(file(id, "deploy.json")) { return "it was approved and is deployed" }
        return nil
    }

    private func requested(_ id: String) -> ApprovalDecision? {
        ApprovalDecision.allCases.first { FileSystem.exists(file(id, $0.requestFile)) }
    }
}

/// Errors of ``SiteApprovals``.
public enum ApprovalError: Error, CustomStringConvertible, Equatable {
    /// The folder is not a client workspace.
    case workspace(path: String, reason: String)
    /// No job of this site starts with the id.
    case noSuchJob(id: String, site: String, pending: [String])
    /// Several jobs start with the id.
    case ambiguous(id: String, matches: [String])
    /// The job does not wait for approval.
    case notPending(id: String, state: String)
    /// The other decision was already requested.
    case otherDecision(id: String, requested: ApprovalDecision)
    /// A request file could not be written.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .workspace(path, reason):
            return "\(path): \(reason)"
        case let .noSuchJob(id, site, pending):
            let waiting = pending.isEmpty ? "no job waits for approval at \(site)" : "waiting for approval: " + pending.joined(separator: ", ")
            return "no job of \(site) matches '\(id)' (\(waiting)); see `ferry approvals`"
        case let .ambiguous(id, matches):
            return "'\(id)' matches several jobs (\(matches.joined(separator: ", "))); give more of the id"
        case let .notPending(id, state):
            return "job \(id) does not wait for approval: \(state)"
        case let .otherDecision(id, requested):
            return "job \(id) already has a request to \(requested.rawValue) it, which the watcher acts on at its next pass; "
                + "remove jobs/\(id)/\(requested.requestFile) first if the watcher has not taken it yet"
        case let .io(path, reason):
            return "\(path): cannot write the request: \(reason)"
        }
    }
}
