/// The sites an app is deployed to.
public enum DeployTarget: Sendable, Equatable, CustomStringConvertible {
    /// Every client site of the federation (every site except `server`).
    case all
    /// These sites, by name.
    case sites([String])

    /// The concrete site names given the federation's client sites.
    public func resolve(clientSites: [String]) -> [String] {
        switch self {
        case .all: return clientSites
        case .sites(let names): return names
        }
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .sites(let names): return "[" + names.joined(separator: ", ") + "]"
        }
    }
}

/// One entry of `job.yaml`'s deploy map, in file order.
public struct DeployEntry: Sendable, Equatable {
    /// The app folder name under `apps/`.
    public var app: String
    /// Where it runs.
    public var target: DeployTarget
}

/// Optional resource limits of a job.
public struct JobResources: Sendable, Equatable {
    /// Memory a site should grant the job, in bytes.
    public var maxMemory: Int64?
}

/// The contents of `job.yaml`.
public struct JobDefinition: Sendable, Equatable {
    /// Job name: `[a-z0-9][a-z0-9._-]{0,63}`.
    public var name: String
    /// Free text shown in listings.
    public var description: String?
    /// Fewest clients that must take part.
    public var minClients: Int
    /// App → sites, in file order.
    public var deploy: [DeployEntry]
    /// Optional resource limits.
    public var resources: JobResources?

    /// The site name that runs the server app.
    public static let serverSite = "server"
}

/// The rules for job, app and site names.
public enum JobNames {
    /// True when `name` matches `[a-z0-9][a-z0-9._-]{0,63}`.
    public static func isValid(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard (1...64).contains(scalars.count) else { return false }
        for (i, c) in scalars.enumerated() {
            let alnum = ("a"..."z").contains(c) || ("0"..."9").contains(c)
            if i == 0 ? !alnum : !(alnum || c == "." || c == "_" || c == "-") { return false }
        }
        return true
    }

    /// The pattern, for messages.
    public static let pattern = "[a-z0-9][a-z0-9._-]{0,63}"
}
