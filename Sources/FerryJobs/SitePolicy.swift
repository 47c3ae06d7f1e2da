import FerryQuant
import FerrySupport

/// A client site's `policy.yaml`: the rules its operator sets for the jobs the site runs
/// (docs/policy.md). Written by the site, never sent by the server; without the file every rule is
/// open (``open``), which is ferry's behaviour before policies existed.
public struct SitePolicy: Sendable, Equatable {
    /// The file's name in a site workspace.
    public static let fileName = "policy.yaml"

    /// Whether a job that passes the rules runs at once (`auto`) or waits for `ferry approve`.
    public var approve: ApprovalMode = .auto
    /// Allowed executor commands (globs, docs/policy.md); nil allows any command.
    public var commands: [String]?
    /// Environment variables a job may set for its executor (names or globs); nil allows any.
    public var env: [String]?
    /// The coarsest precision results may leave with: the job's `filters.to_server` must carry at
    /// most as many bits per value as this format; nil allows any filter, `none` included.
    public var toServer: QuantFormat?
    /// The privacy filters a job must apply to results (`filters.privacy`); nil requires none.
    public var privacy: PrivacyRequirements?
    /// The most rounds a job may run; nil for no limit.
    public var maxRounds: Int?
    /// How much of the job's log on this site is shipped to the server with each result.
    public var logs: LogShipping = .all
    /// Lines shipped with `logs: tail`.
    public var logTailLines = SitePolicy.defaultTailLines
    /// Line of each rule's key in the file (`commands`, `env`, `filters.to_server`, `filters.privacy`,
    /// `max_rounds`), for
    /// the reasons of refusals.
    public var lines: [String: Int] = [:]

    /// `log_tail_lines` when absent.
    public static let defaultTailLines = 100

    /// The policy of a site without `policy.yaml`: any command, any environment, any filter, any number
    /// of rounds, the whole log shipped, jobs approved automatically.
    public static let open = SitePolicy()

    /// Creates a policy; the defaults are those of ``open``.
    public init(approve: ApprovalMode = .auto, commands: [String]? = nil, env: [String]? = nil,
                toServer: QuantFormat? = nil, maxRounds: Int? = nil, logs: LogShipping = .all,
                logTailLines: Int = SitePolicy.defaultTailLines, lines: [String: Int] = [:]) {
        self.approve = approve
        self.commands = commands
        self.env = env
        self.toServer = toServer
        self.maxRounds = maxRounds
        self.logs = logs
        self.logTailLines = logTailLines
        self.lines = lines
    }

    /// The policy of the site workspace at `directory`: its `policy.yaml`, or ``open`` when there is none.
    /// - Throws: ``JobValidationFailure`` naming `policy.yaml`, line, column and field of every problem.
    public static func load(workspace directory: String) throws(JobValidationFailure) -> SitePolicy {
        let path = FileSystem.join(directory, fileName)
        // Only a name that is surely absent means no policy; a dangling link or an unreadable folder is
        // a broken policy, which refuses jobs rather than letting them run unchecked.
        var status = stat()
        if lstat(path, &status) != 0 && errno == ENOENT { return .open }
        let context = YAMLContext(file: fileName)
        switch YAMLFile.load(path: path, display: fileName) {
        case .failure(let failure): throw failure
        case .success(let root):
            let policy = SitePolicyDecoder(context: context).decode(root)
            if let policy, context.diagnostics.isEmpty { return policy }
            throw JobValidationFailure(diagnostics: context.diagnostics)
        }
    }
}

/// `approve:` of `policy.yaml`.
public enum ApprovalMode: String, Sendable, Equatable, CaseIterable {
    /// A job that passes the rules is accepted at once.
    case auto
    /// A job that passes the rules waits until the site's operator runs `ferry approve` or `ferry reject`.
    case manual
}

/// `logs:` of `policy.yaml`: what of the job's log on the site goes to the server with each result.
public enum LogShipping: String, Sendable, Equatable, CaseIterable {
    /// The whole log (ferry's behaviour without a policy).
    case all
    /// The last `log_tail_lines` lines.
    case tail
    /// Nothing: the server gets results and refusal reasons only.
    case none
}
