import FerryExecutor
import ArgumentParser
import FerryRuntime
import FerrySupport

/// `ferry watch WORKSPACE`: the per-site daemon.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Run a site's watcher: the server drives jobs, a client runs their tasks.",
        discussion: """
        The watcher of a site workspace (made by `ferry provision`) takes messages out of the site's inbox \
        and works on them. On the server it picks up submitted jobs (`ferry submit`), checks them, deploys \
        them to the sites of their deploy map and runs their workflow (fedavg, cyclic) round by round. On a \
        client it verifies deployments against the trusted server key, unpacks them into jobs/<id>/, runs \
        each task's executor and sends the results back.

        Everything it does is recorded in files: kill it at any moment (even with kill -9) and start it \
        again, and every job continues where it was. SIGTERM or Ctrl-C stops it cleanly.

        inotify wakes the watcher early on local disks; it always polls as well, so it works on NFS/SMB \
        shares. Use --polling-only where inotify misbehaves.

        Every watcher rewrites a heartbeat in the server's inbox about once per poll period (`ferry sites` \
        shows them). The server stops waiting for a site silent longer than the grace period \
        (--dead-after, else site.yaml's `liveness: {grace: 5m}`, else 5m): a round goes on without it while \
        min_clients can still be met, and fails at once with the reason when it cannot.

        Sites where no process may stay resident (HPC login nodes) run it from cron or scrontab: --once \
        does the work that is ready (local tasks run to their end, Slurm tasks are submitted or looked at, \
        queued messages are sent) and exits; the next run goes on from the files. --exit-when-idle and \
        --max-runtime are other ways to stop (docs/hpc.md).

        Logs: <workspace>/logs/watcher.log, and one log per job per site in the job's folder.

        Examples:
          ferry watch workspaces/demo/server
          ferry watch /mnt/share/site-1 --poll 5s --polling-only
          ferry watch ~/fl/site-1 --once
          ferry watch ~/fl/site-1 --exit-when-idle 10m --max-runtime 23h
        """
    )

    @Argument(help: "The site workspace folder (holding site.yaml).")
    var workspace: String

    @Option(help: "How often to scan the inbox and the job store (e.g. 200ms, 1s, 5s).")
    var poll: String = "1s"

    @Option(name: .customLong("max-jobs"), help: "Jobs run at once (server) or executors run at once (client).")
    var maxJobs: Int = 4

    @Flag(name: .customLong("polling-only"), help: "Never use inotify (network shares).")
    var pollingOnly = false

    @Option(name: .customLong("dead-after"), help: ArgumentHelp(
        "Server: stop waiting for a site whose heartbeat has been silent this long (default: site.yaml's liveness.grace, else 5m).",
        valueName: "DURATION"))
    var deadAfter: String?

    @Flag(name: .long, help: "Do not echo the watcher's log on standard error.")
    var quiet = false

    @Flag(name: .long, help: "Do the work that is ready, then exit (Slurm tasks are left to run).")
    var once = false

    @Option(name: .customLong("exit-when-idle"), help: ArgumentHelp("Exit after this long without work (e.g. 10m).", valueName: "duration"))
    var exitWhenIdle: String?

    @Option(name: .customLong("max-runtime"), help: ArgumentHelp("Exit after this long, whatever runs (e.g. 23h).", valueName: "duration"))
    var maxRuntime: String?

    func validate() throws {
        guard maxJobs >= 1 else { throw ValidationError("--max-jobs must be at least 1") }
        do { _ = try DurationText.parse(poll) } catch { throw ValidationError("--poll: \(error)") }
        if let deadAfter {
            guard let grace = try? DurationText.parse(deadAfter), grace > .zero else {
                throw ValidationError("--dead-after: '\(deadAfter)' is not a positive duration (e.g. 90s, 5m)")
            }
        }
        for (flag, text) in [("--exit-when-idle", exitWhenIdle), ("--max-runtime", maxRuntime)] {
            guard let text else { continue }
            guard let value = try? DurationText.parse(text), value > .zero else {
                throw ValidationError("\(flag): '\(text)' is not a positive duration (e.g. 90s, 10m, 2h)")
            }
        }
    }

    func run() async throws {
        var options = WatcherOptions()
        options.pollInterval = try DurationText.parse(poll)
        guard options.pollInterval > .zero else { throw ValidationError("--poll must be positive") }
        options.maxJobs = maxJobs
        options.useInotify = !pollingOnly
        options.echoLog = !quiet
        options.deadAfter = try deadAfter.map { try DurationText.parse($0) }
        options.executableDirectory = ExecutorInvocation.currentExecutableDirectory
        options.once = once
        options.exitWhenIdle = try exitWhenIdle.map(DurationText.parse)
        options.maxRuntime = try maxRuntime.map(DurationText.parse)
        let watcher = try Watcher(workspace: workspace, options: options)
        try await WatcherService.runUntilSignalled(watcher)
    }
}
