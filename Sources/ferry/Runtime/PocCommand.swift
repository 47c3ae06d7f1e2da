import ArgumentParser
import Dispatch
import FerryJobs
import FerryRuntime
import FerrySupport
import FerryWorkspace
import Foundation
import Synchronization

/// `ferry poc JOB`: runs a job on a throwaway local federation.
struct PocCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poc",
        abstract: "Run a job end to end on a local federation: provision, watch, submit, summarize.",
        discussion: """
        Provisions a throwaway federation (a server and --clients client workspaces) in a temporary folder, or \
        reuses the federation in --workspace, starts `ferry watch` for every site as a child process, submits \
        the job, shows live progress per site and round, and ends with a summary table: the metrics of every \
        round, the bytes sent each way on the wire and before quantization, the time, and the final model's \
        path. The watchers are stopped cleanly (SIGTERM) at the end, or on Ctrl-C.

        JOB is a job folder, or a folder of job folders (a sweep): all of them are submitted at once and run \
        --max-jobs at a time (--max-jobs 1 runs them one after another).

        The directory of this `ferry` binary comes first on the executors' PATH, so the example trainer \
        (`ferry-example-trainer`, built beside it) is found.

        Exit status: 0 when every job completed; 1 when one failed or was aborted (the reason is printed).

        Examples:
          ferry poc jobs/hello-fedavg
          ferry poc jobs/hello-fedavg --clients 3 --poll 200ms
          ferry poc jobs/hello-fedavg --workspace /tmp/fed     (keeps and reuses /tmp/fed)
          ferry poc sweeps/lr-sweep --max-jobs 2
        """
    )

    @Argument(help: "A job folder, or a folder of job folders.")
    var job: String

    @Option(help: "Number of client sites of a new federation (default: 2, or as many as the jobs need: their min_clients and the highest site-N they deploy to).")
    var clients: Int?

    @Option(help: "Folder of the federation: reused when it holds one, provisioned otherwise (default: a new temporary folder).")
    var workspace: String?

    @Option(help: "How often the watchers scan their folders (e.g. 200ms, 1s).")
    var poll: String = "250ms"

    @Flag(name: .customLong("polling-only"), help: "Watchers never use inotify (as on a network share).")
    var pollingOnly = false

    @Option(name: .customLong("max-jobs"), help: "Jobs the server runs at once.")
    var maxJobs: Int = 4

    @Option(help: "Give up (and fail) when the jobs have not finished after this long (e.g. 10m).")
    var timeout: String?

    func validate() throws {
        if let clients, clients < 1 { throw ValidationError("--clients must be at least 1") }
        guard maxJobs >= 1 else { throw ValidationError("--max-jobs must be at least 1") }
        do {
            guard try DurationText.parse(poll) > .zero else { throw ValidationError("--poll must be positive") }
            if let timeout { _ = try DurationText.parse(timeout) }
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
        guard !JobStore.submissionTargets(job).isEmpty else {
            throw ValidationError("\(job) is not a job folder (no job.yaml) nor a folder of job folders")
        }
    }

    func run() async throws {
        let targets = JobStore.submissionTargets(job)
        let pollInterval = try DurationText.parse(poll)
        let limit = try timeout.map { try DurationText.parse($0) }
        guard let binary = LocalFederation.currentExecutable else {
            throw RuntimeError.federation("cannot tell where the running ferry binary is, to start the watchers")
        }
        let directory = try workspace ?? Self.temporaryFolder()
        let federation = try LocalFederation.prepare(directory: directory, clients: clients ?? Self.clientsNeeded(by: targets),
                                                     poll: pollInterval)
        let clientNames = federation.server.clientNames
        if !federation.provisioned, let clients, clients != clientNames.count {
            StandardError.write("ferry: --clients \(clients) ignored: the federation in \(federation.directory) is reused as it is "
                                + "(\(clientNames.count) clients); re-provision it or use another --workspace to change it\n")
        }
        print("federation \(federation.server.project): \(federation.server.name) + \(clientNames.joined(separator: ", ")) "
              + "in \(federation.directory) (\(federation.provisioned ? "provisioned" : "reused"))")

        let interrupted = SignalFlag(signals: [SIGINT, SIGTERM])
        var arguments = ["--poll", poll, "--max-jobs", String(maxJobs)]
        if pollingOnly { arguments.append("--polling-only") }
        try federation.start(binary: binary, arguments: arguments)
        print("watchers started: " + federation.watchers.map { "\($0.site) (pid \($0.pid))" }.joined(separator: ", "))

        var ids: [String] = []
        do {
            for target in targets {
                let record = try federation.submit(target)
                ids.append(record.id)
                print("submitted \(record.name) as job \(record.id)")
            }
        } catch {
            federation.stop()
            throw error
        }

        let clock = ContinuousClock()
        let start = clock.now
        let tracker = JobProgressTracker(server: federation.server, ids: ids)
        var failure: String?
        while true {
            for line in tracker.poll() {
                print("[\(Self.stamp(clock.now - start))] \(line)")
            }
            if tracker.allFinished { break }
            if let dead = federation.deadWatcher {
                failure = "the watcher of \(dead.site) stopped unexpectedly (status \(dead.exitStatus ?? -1)); its output (\(dead.outputPath)):\n\(dead.outputTail())"
                break
            }
            if interrupted.isSet {
                failure = "interrupted: watchers stopped; the jobs resume when watchers run on \(federation.directory) again"
                break
            }
            if let limit, clock.now - start > limit {
                failure = "the jobs did not finish within --timeout \(DurationText.format(limit))"
                break
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        // The clients' last logs travel after their results: let them arrive (bounded) so that
        // `ferry logs` shows them.
        let drainDeadline = clock.now + .seconds(15)
        while failure == nil, !federation.outboxesDrained, clock.now < drainDeadline, !interrupted.isSet {
            try? await Task.sleep(for: .milliseconds(100))
        }
        federation.stop()
        print("watchers stopped")

        var failed: [String] = []
        for id in ids {
            guard let run = try? federation.run(id) else { continue }
            print("")
            print(JobSummary.text(run), terminator: "")
            if run.state.state != .finishedCompleted {
                failed.append("job \(run.name) (\(run.id)) \(run.state.state.rawValue)"
                              + (run.state.reason == nil ? "" : " (the reason is in its summary above)"))
            }
        }
        print("")
        print("logs: \(federation.server.jobsDirectory)/<job-id>/logs/; report: ferry report \(ids.joined(separator: " ")) --workspace \(federation.server.directory)")
        if let failure {
            throw RuntimeError.federation(failure)
        }
        if !failed.isEmpty {
            throw RuntimeError.federation(failed.joined(separator: "\n"))
        }
    }

    /// `12.3s` style elapsed time, right-aligned.
    static func stamp(_ d: Duration) -> String {
        let text = formatFixed(d.seconds, 1) + "s"
        return String(repeating: " ", count: max(0, 6 - text.count)) + text
    }

    /// A new folder under the system's temporary directory.
    static func temporaryFolder() throws -> String {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array((FileSystem.join(base, "ferry-poc-XXXXXX")).utf8CString)
        guard let made = mkdtemp(&template) else {
            throw RuntimeError.federation("cannot create a temporary folder under \(base)")
        }
        return String(cString: made)
    }
}

/// Set once one of `signals` arrives (their default action is replaced while the program runs).
final class SignalFlag {
    private let state = FlagState()
    private var handlers: SignalHandlers?

    init(signals: [Int32]) {
        let state = self.state
        handlers = SignalHandlers.install(signals) { _ in state.set() }
    }

    var isSet: Bool { state.isSet }

    private final class FlagState: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .sequentiallyConsistent) }
        var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
    }
}

extension PocCommand {
    /// Clients a new federation needs for `targets`: at least 2, each job's `min_clients`, and the
    /// highest `site-N` its deploy map names. (Jobs that do not load are left to `submit` to report.)
    static func clientsNeeded(by targets: [String]) -> Int {
        var needed = 2
        for target in targets {
            guard let job = try? JobFolder.load(directory: target) else { continue }
            needed = max(needed, job.definition.minClients, job.serverApp.minClients)
            for site in job.namedClientSites where site.hasPrefix("site-") {
                if let index = Int(site.dropFirst(5)), index <= 1000 { needed = max(needed, index) }
            }
        }
        return needed
    }
}
