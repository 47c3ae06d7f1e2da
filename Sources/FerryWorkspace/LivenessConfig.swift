import FerrySupport

/// `liveness:` of a server's `site.yaml`: how long the server waits for a silent site
/// (docs/runtime.md, "Liveness").
public struct LivenessConfig: Codable, Sendable, Equatable {
    /// A duration (`5m`, `90s`): a site whose heartbeat has not changed for longer is dead, and the
    /// server's rounds stop waiting for it. Nil: the default.
    public var grace: String?

    /// A configuration with `grace`.
    public init(grace: String?) { self.grace = grace }
}

extension SiteWorkspace {
    /// `liveness.grace` of site.yaml; nil when unset.
    /// - Throws: ``WorkspaceError/invalidSiteFile(path:reason:)`` when it is not a positive duration.
    public func livenessGrace() throws(WorkspaceError) -> Duration? {
        guard let text = config.liveness?.grace else { return nil }
        guard let value = try? DurationText.parse(text), value > .zero else {
            throw .invalidSiteFile(path: siteFile,
                                   reason: "liveness.grace '\(text)' is not a positive duration: use e.g. 5m or 90s, or remove the key for the default")
        }
        return value
    }
}
