/// How a ``Watcher`` runs.
public struct WatcherOptions: Sendable {
    /// How often the inbox and the job store are scanned when nothing wakes the watcher earlier.
    public var pollInterval: Duration = .seconds(1)
    /// Jobs run at once (server: jobs driven at once; client: executors running at once).
    public var maxJobs: Int = 4
    /// Use inotify as a fast path (polling continues either way; off for network shares).
    public var useInotify: Bool = true
    /// Also print the watcher's log lines on standard error.
    public var echoLog: Bool = true
    /// Folder put first on the executors' PATH (the running `ferry` binary's folder, so that
    /// `ferry-example-trainer` is found); nil keeps PATH as is.
    public var executableDirectory: String? = nil
    /// Transfers idle this long are abandoned (sender gives up, receiver cleans up).
    public var transferExpiry: Duration = .seconds(3600)
    /// Server: a site whose heartbeat has been silent this long is dead (`ferry watch --dead-after`);
    /// nil: site.yaml's `liveness.grace`, else 5 minutes (docs/runtime.md, "Liveness").
    public var deadAfter: Duration? = nil
    /// `--once`: do the work that is ready (run local tasks to their end, submit or look at Slurm tasks,
    /// send what is queued) and stop.
    public var once: Bool = false
    /// `--exit-when-idle`: stop after this long without work (no message, no task, nothing to send).
    public var exitWhenIdle: Duration? = nil
    /// `--max-runtime`: stop after this long whatever runs (local tasks run again at the next start).
    public var maxRuntime: Duration? = nil

    /// Defaults: poll every second, 4 jobs, inotify on, log echoed to stderr.
    public init() {}
}
