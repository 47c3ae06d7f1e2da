import Foundation

/// `jobs/<id>/pending.json` on a client whose policy says `approve: manual`: a deployment that was
/// verified, unpacked and passed the policy, and waits for `ferry approve` or `ferry reject`.
public struct PendingApproval: Codable, Sendable, Equatable {
    /// The file's name in the job's folder.
    public static let fileName = "pending.json"

    /// The job id.
    public var job: String
    /// The job's name (job.yaml).
    public var name: String
    /// The client app this site would run.
    public var app: String
    /// The server that deployed it.
    public var server: String
    /// The executor command, placeholders unexpanded.
    public var command: [String]
    /// The environment the job sets for its executor.
    public var env: [String: String]
    /// The filter results would leave with (`fp16`, …), nil for none.
    public var toServer: String?
    /// The privacy filters results would go through, in order, in words (nil for none; docs/filters.md).
    public var privacy: [String]? = nil
    /// The job's number of rounds.
    public var rounds: Int
    /// When the deployment arrived.
    public var receivedAt: Date

    /// Creates a record.
    public init(job: String, name: String, app: String, server: String, command: [String], env: [String: String],
                toServer: String?, rounds: Int, receivedAt: Date) {
        self.job = job
        self.name = name
        self.app = app
        self.server = server
        self.command = command
        self.env = env
        self.toServer = toServer
        self.rounds = rounds
        self.receivedAt = receivedAt
    }
}

/// A decision of the site's operator on a pending job.
public enum ApprovalDecision: String, Sendable, CaseIterable {
    /// `ferry approve`: the job is accepted and runs.
    case approve
    /// `ferry reject`: the job is refused, and the server told why.
    case reject

    /// The request file the CLI drops in `jobs/<id>/` for the watcher: `approve.request`, `reject.request`.
    public var requestFile: String { "\(rawValue).request" }
}

/// `jobs/<id>/approve.request` or `reject.request`, written by the CLI, consumed by the watcher.
public struct ApprovalRequest: Codable, Sendable, Equatable {
    /// Who asked (`cli`).
    public var by: String
    /// When.
    public var requestedAt: Date
    /// `ferry reject --reason`: passed on to the server.
    public var reason: String?

    /// Creates a request.
    public init(by: String = "cli", requestedAt: Date = Date(), reason: String? = nil) {
        self.by = by
        self.requestedAt = requestedAt
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case by, reason
        case requestedAt = "requested_at"
    }
}
