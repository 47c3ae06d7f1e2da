import FerrySupport
import FerryWorkspace
import Foundation

/// One site's line of `ferry sites`.
public struct SiteLivenessEntry: Codable, Sendable, Equatable {
    /// The site name.
    public var site: String
    /// `server` or `client`.
    public var role: String
    /// Alive, stale or dead.
    public var state: SiteLivenessState
    /// When its heartbeat last changed, by this host's clock; nil when no heartbeat was ever found.
    public var lastSeen: Date?
    /// Seconds since then (or since the server watcher began waiting for a site never seen).
    public var silentSeconds: Double?
    /// How `lastSeen` was found: `observed` (the server watcher saw the change), `estimated` (the
    /// heartbeat's time corrected by the clock offset the server watcher measured), `writer` (the
    /// heartbeat's time as written: no observation yet), or `never`.
    public var clock: String
    /// The heartbeat itself, when there is one.
    public var heartbeat: Heartbeat?

    enum CodingKeys: String, CodingKey {
        case site, role, state, clock, heartbeat
        case lastSeen = "last_seen"
        case silentSeconds = "silent_s"
    }
}

/// The liveness of every site of a federation, as `ferry sites` and `ferry status` show it.
public struct SiteLivenessReport: Codable, Sendable, Equatable {
    /// The grace period in seconds (the server watcher's, else site.yaml's, else the default).
    public var graceSeconds: Double
    /// When the server watcher last recorded its observations (`liveness.json`); nil when never.
    public var observedAt: Date?
    /// The server first, then the clients by name.
    public var sites: [SiteLivenessEntry]

    enum CodingKeys: String, CodingKey {
        case sites
        case graceSeconds = "grace_s"
        case observedAt = "observed_at"
    }

    /// Reads the heartbeats in the server's inbox (by name) and the server watcher's `liveness.json`.
    /// - Throws: ``WorkspaceError`` for a site.yaml whose `liveness.grace` is not a duration.
    public static func read(server workspace: SiteWorkspace, now: Date = Date()) throws(WorkspaceError) -> SiteLivenessReport {
        let record = try? JSONFile.readIfPresent(LivenessFile.self, from: LivenessFile.path(workspace: workspace))
        var rules = try LivenessRules(workspace: workspace, override: nil)
        if let record { rules.grace = .milliseconds(Int64(record.graceSeconds * 1000)) }
        var entries: [SiteLivenessEntry] = []
        for (site, role) in [(workspace.name, SiteRole.server)] + workspace.clientNames.map({ ($0, SiteRole.client) }) {
            let heartbeat = Heartbeat.read(inbox: workspace.inboxDirectory, site: site)
            let observation = record?.sites[site]
            var lastSeen: Date?
            var silence: Double?
            let clock: String
            if let heartbeat {
                if let observation, observation.matches(heartbeat) {
                    lastSeen = observation.changedAt
                    clock = "observed"
                } else {
                    lastSeen = heartbeat.time.addingTimeInterval(observation?.clockOffsetSeconds ?? 0)
                    clock = observation?.clockOffsetSeconds == nil ? "writer" : "estimated"
                }
                lastSeen = min(lastSeen!, now)
                silence = now.timeIntervalSince(lastSeen!)
            } else {
                silence = observation.map { now.timeIntervalSince($0.changedAt) }
                clock = "never"
            }
            // A site never seen is at best stale: waited for until the grace has passed, but not known to run.
            let state = silence.map { heartbeat == nil ? ($0 > rules.grace.seconds ? .dead : .stale)
                                                       : rules.state(silence: $0, interval: heartbeat!.intervalSeconds) } ?? .dead
            entries.append(SiteLivenessEntry(site: site, role: role.rawValue, state: state, lastSeen: lastSeen,
                                             silentSeconds: silence, clock: clock, heartbeat: heartbeat))
        }
        return SiteLivenessReport(graceSeconds: rules.grace.seconds, observedAt: record?.checkedAt, sites: entries)
    }
}
