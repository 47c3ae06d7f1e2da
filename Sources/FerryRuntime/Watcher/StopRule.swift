import FerrySupport

/// When a watcher started with `--once`, `--exit-when-idle` or `--max-runtime` stops (docs/hpc.md).
struct StopRule {
    /// What the last pass saw.
    struct Activity {
        /// Messages received.
        var received: Int
        /// Executors running on this machine.
        var localTasks: Bool
        /// Tasks followed at all (Slurm jobs included).
        var followedTasks: Bool
        /// Messages being sent.
        var sending: Bool
    }

    let once: Bool
    let exitWhenIdle: Duration?
    let maxRuntime: Duration?
    let started = ContinuousClock.now
    private var idleSince: ContinuousClock.Instant?

    init(options: WatcherOptions) {
        once = options.once
        exitWhenIdle = options.exitWhenIdle
        maxRuntime = options.maxRuntime
    }

    /// Why to stop after a pass that saw `activity`, or nil to go on.
    mutating func reasonToStop(after activity: Activity) -> String? {
        let now = ContinuousClock.now
        if once, activity.received == 0, !activity.localTasks, !activity.sending {
            return "--once: no more work is ready"
                + (activity.followedTasks ? " (Slurm jobs keep running; the next run collects them)" : "")
        }
        if let limit = exitWhenIdle {
            if activity.received > 0 || activity.followedTasks || activity.sending {
                idleSince = nil
            } else {
                let since = idleSince ?? now
                idleSince = since
                if now - since >= limit { return "--exit-when-idle: idle for \(DurationText.format(limit))" }
            }
        }
        if let limit = maxRuntime, now - started >= limit {
            return "--max-runtime: ran for \(DurationText.format(limit))"
        }
        return nil
    }

    /// How long to wait for the next pass: the poll interval, shortened to the --max-runtime deadline.
    func nextWait(poll: Duration) -> Duration {
        guard let limit = maxRuntime else { return poll }
        return max(.zero, min(poll, started + limit - ContinuousClock.now))
    }
}
