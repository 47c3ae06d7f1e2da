import FerrySupport
import FerryWorkspace
import Foundation
import Logging

/// The server watcher's view of its sites' heartbeats (used on the watcher's loop thread only): reads
/// each site's heartbeat by name, notes by the server's clock when it last changed, logs sites that
/// die and come back, and keeps `liveness.json` for `ferry sites` and the next start.
final class LivenessMonitor {
    let rules: LivenessRules
    private let inbox: String
    private var sites: [String]
    private let observer: String
    private let recordPath: String
    private let logger: Logger
    private var observations: [String: LivenessObservation] = [:]
    private var states: [String: SiteLivenessState] = [:]
    private var lastRead: Date?
    private var lastSaved: Date?
    private var saved: [String: LivenessObservation] = [:]
    private var saveProblem: String?

    init(workspace: SiteWorkspace, rules: LivenessRules, logger: Logger, now: Date = Date()) {
        self.rules = rules
        self.inbox = workspace.inboxDirectory
        self.sites = [workspace.name] + workspace.clientNames
        self.observer = workspace.name
        self.recordPath = LivenessFile.path(workspace: workspace)
        self.logger = logger
        // Silence seen before a restart still counts; a site never seen is given a full grace from now.
        let previous = (try? JSONFile.readIfPresent(LivenessFile.self, from: recordPath))?.sites ?? [:]
        for site in sites {
            if let seen = previous[site], seen.instance != nil { observations[site] = seen }
        }
        refresh(now: now)
    }

    /// Watches `sites` from now on (the federation added or removed sites); a new site is given a full
    /// grace from its first sighting.
    func track(sites: [String]) {
        self.sites = sites
        lastRead = nil
    }

    /// Reads the heartbeats (at most twice a second), updates the observations and the sites' states.
    func refresh(now: Date = Date()) {
        var changedState = false
        var heartbeats: [String: Heartbeat] = [:]
        if lastRead.map({ now.timeIntervalSince($0) >= 0.5 || now < $0 }) ?? true {
            lastRead = now
            for site in sites {
                let heartbeat = Heartbeat.read(inbox: inbox, site: site)
                heartbeats[site] = heartbeat
                let observation = LivenessObservation.next(observations[site], heartbeat: heartbeat, now: now)
                // A first sighting (or a restarted watcher) is recorded at once: `ferry sites` uses its clock offset.
                if observation.instance != observations[site]?.instance { changedState = true }
                observations[site] = observation
            }
        }
        for site in sites {
            guard let observation = observations[site] else { continue }
            let heartbeat = heartbeats[site]
            let state = rules.state(silence: now.timeIntervalSince(observation.changedAt), interval: observation.intervalSeconds)
            let before = states[site]
            states[site] = state
            guard before != state, site != observer else { continue }
            changedState = true
            if state == .dead {
                logger.warning("\(site): \(rules.absence(silence: now.timeIntervalSince(observation.changedAt))); rounds no longer wait for it")
            } else if before == .dead {
                let from = heartbeat.map { " (\($0.host), ferry \($0.version))" } ?? ""
                logger.info("\(site) is back\(from): its heartbeat changed again")
            }
        }
        save(now: now, force: changedState)
    }

    /// Why `site` is not waited for (`not seen for 7m00s (liveness grace 5m00s)`), nil while it is
    /// alive or stale: the state of the last ``refresh(now:)``, whose transitions were logged.
    func absence(of site: String, now: Date = Date()) -> String? {
        guard states[site] == .dead, let observation = observations[site] else { return nil }
        return rules.absence(silence: now.timeIntervalSince(observation.changedAt))
    }

    /// Writes `liveness.json` when a state changed, else at most every 5 s when something changed.
    private func save(now: Date, force: Bool) {
        guard force || saved != observations else { return }
        if !force, let lastSaved, now.timeIntervalSince(lastSaved) >= 0, now.timeIntervalSince(lastSaved) < 5 { return }
        let file = LivenessFile(observer: observer, checkedAt: now, graceSeconds: rules.grace.seconds, sites: observations)
        do {
            var data = try JSONFile.encoder().encode(file)
            data.append(0x0A)
            // Not fsynced: after a host crash the observations are simply made again.
            try AtomicFile.write(data, to: recordPath, durable: false)
            saved = observations
            lastSaved = now
            saveProblem = nil
        } catch {
            let problem = "\(error)"
            if saveProblem != problem { logger.warning("liveness: cannot write \(recordPath): \(problem)") }
            saveProblem = problem
        }
    }
}
