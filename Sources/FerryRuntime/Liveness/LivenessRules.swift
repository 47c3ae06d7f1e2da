import FerrySupport
import FerryWorkspace
import Foundation

/// Whether a site's watcher is running, judged by the reader from its heartbeat.
public enum SiteLivenessState: String, Codable, Sendable {
    /// The heartbeat changed recently.
    case alive
    /// Silent for more than three heartbeat intervals (at least 5 s), but less than the grace period;
    /// also a site never seen, while the server still waits for it.
    case stale
    /// Silent for longer than the grace period (or never seen): the server's rounds stop waiting for it.
    case dead
}

/// The liveness thresholds.
public struct LivenessRules: Sendable, Equatable {
    /// A site silent for longer is dead.
    public var grace: Duration

    /// The grace when neither `ferry watch --dead-after` nor site.yaml's `liveness.grace` sets one.
    public static let defaultGrace: Duration = .seconds(300)

    /// Rules with `grace`.
    public init(grace: Duration = LivenessRules.defaultGrace) { self.grace = grace }

    /// The rules of a server: `override` (`--dead-after`), else site.yaml's `liveness.grace`, else 5 minutes.
    /// - Throws: ``WorkspaceError/invalidSiteFile(path:reason:)`` for a `liveness.grace` that is not a duration.
    public init(workspace: SiteWorkspace, override: Duration?) throws(WorkspaceError) {
        if let override {
            grace = override
        } else {
            grace = try workspace.livenessGrace() ?? Self.defaultGrace
        }
    }

    /// The state of a site silent for `silence` seconds whose heartbeat comes every `interval` seconds.
    public func state(silence: TimeInterval, interval: Double?) -> SiteLivenessState {
        if silence > grace.seconds { return .dead }
        if silence > max(5, 3 * (interval ?? 1)) { return .stale }
        return .alive
    }

    /// `not seen for 7m00s (liveness grace 5m00s)`.
    public func absence(silence: TimeInterval) -> String {
        "not seen for \(DurationText.format(.milliseconds(Int64(max(0, silence) * 1000)))) (liveness grace \(DurationText.format(grace)))"
    }
}

/// What an observer (the server's watcher) last saw of one site's heartbeat, by its own clock: the
/// writer's clock is never trusted for liveness, only the heartbeat's change.
struct LivenessObservation: Codable, Sendable, Equatable {
    /// The heartbeat's `instance` and `sequence` (nil: never seen).
    var instance: String?
    var sequence: UInt64?
    /// Observer's clock: when the heartbeat was last seen to change (for a site never seen: when the
    /// observer started looking).
    var changedAt: Date
    /// Observer's clock minus the heartbeat's `time` when it was seen to change (clock skew plus delay).
    var clockOffsetSeconds: Double?
    /// The writer's heartbeat interval.
    var intervalSeconds: Double?

    /// Whether `heartbeat` is the one observed.
    func matches(_ heartbeat: Heartbeat) -> Bool { instance == heartbeat.instance && sequence == heartbeat.sequence }

    /// The observation after reading `heartbeat` (nil: no file) at `now`.
    static func next(_ previous: LivenessObservation?, heartbeat: Heartbeat?, now: Date) -> LivenessObservation {
        guard let heartbeat else { return previous ?? LivenessObservation(changedAt: now) }
        if let previous, previous.matches(heartbeat) { return previous }
        return LivenessObservation(instance: heartbeat.instance, sequence: heartbeat.sequence, changedAt: now,
                                   clockOffsetSeconds: now.timeIntervalSince(heartbeat.time),
                                   intervalSeconds: heartbeat.intervalSeconds)
    }
}

/// `<server workspace>/liveness.json`: the server watcher's observations, so that `ferry sites` and a
/// restarted watcher judge silence by the server's clock.
struct LivenessFile: Codable, Sendable, Equatable {
    var format = 1
    /// The observing site (the server).
    var observer: String
    /// When the observer last read the heartbeats.
    var checkedAt: Date
    /// The grace it applies, in seconds.
    var graceSeconds: Double
    /// Site name → observation.
    var sites: [String: LivenessObservation]

    static func path(workspace: SiteWorkspace) -> String { FileSystem.join(workspace.directory, "liveness.json") }
}
