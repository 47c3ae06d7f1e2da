import ArgumentParser
import FerrySupport
import FerryWorkspace
import Foundation

/// `ferry logs ID [--site S] [--follow]`: the job's log per site.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a job's logs: one per site, from jobs/<id>/logs/<site>.log.",
        discussion: """
        The server watcher writes its log of the job to jobs/<id>/logs/server.log; each client's log of \
        the job (its executor's stdout and stderr included) is shipped back to the server and stored as \
        jobs/<id>/logs/<site>.log. Without --site every log is printed, each under a `==> SITE <==` line.

        --follow keeps printing what is added, like `tail -f`, until the job has finished (then it exits 0) \
        or Ctrl-C; it also prints each site's latest live metrics when they change (`live SITE: TASK step N \
        loss=…`, what the executor logged with ferry.log or in its FERRY_METRICS file). The watcher's own \
        log, across jobs, is <workspace>/logs/watcher.log.

        Examples:
          ferry logs 20261125-190501-ab12cd
          ferry logs 20261125-19 --site site-1
          ferry logs 20261125-19 --follow
        """
    )

    @OptionGroup var id: JobIDArgument
    @OptionGroup var workspace: WorkspaceOption

    @Option(name: .long, help: ArgumentHelp("Only this site's log.", valueName: "S"))
    var site: String?

    @Flag(name: .long, help: "Keep printing new lines until the job finishes.")
    var follow = false

    func run() async throws {
        let store = try workspace.store()
        let job = try store.record(id: id.id)
        if let site, !job.meta.sites.contains(site) {
            throw LogsError.unknownSite(site, job: job.id, sites: job.meta.sites)
        }
        var reader = LogReader(directory: job.paths.logsDirectory, site: site)
        if !follow {
            let printed = try reader.printNew()
            if printed == 0 { throw LogsError.noLogs(site: site, job: job.id, state: job.state.state) }
            return
        }
        var live = LiveMetricsFollower(paths: job.paths, site: site)
        while true {
            // Read the state first, so a log written just before the job finished is still printed.
            let finished = (try? store.state(id: job.id).state.isFinished) ?? true
            _ = try reader.printNew()
            live.printNew()
            if finished { return }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// Errors of `ferry logs`.
enum LogsError: Error, CustomStringConvertible {
    case unknownSite(String, job: String, sites: [String])
    case noLogs(site: String?, job: String, state: JobState)

    var description: String {
        switch self {
        case let .unknownSite(site, job, sites):
            return "job \(job) is not deployed to site '\(site)'\n    hint: its sites are \(sites.joined(separator: ", "))"
        case let .noLogs(site, job, state):
            let what = site.map { "no log from site '\($0)'" } ?? "no logs"
            return "\(what) for job \(job) yet (it is \(state.rawValue))\n    hint: logs appear once the server watcher "
                + "(`ferry watch`) works on the job; `ferry logs \(job) --follow` waits for them"
        }
    }
}

/// Prints what was appended to the job's `logs/<site>.log` files since the last call.
struct LogReader {
    let directory: String
    let site: String?
    private var offsets: [String: UInt64] = [:]
    private var lastPrinted: String?

    init(directory: String, site: String?) {
        self.directory = directory
        self.site = site
    }

    /// The log files' site names: the server first, then sorted.
    func sites() -> [String] {
        if let site { return FileManager.default.fileExists(atPath: path(site)) ? [site] : [] }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".log") && !$0.hasPrefix(".") }.map { String($0.dropLast(4)) }
        return names.sorted { a, b in a == "server" || (b != "server" && a < b) }
    }

    private func path(_ site: String) -> String { FileSystem.join(directory, site) + ".log" }

    /// Prints the new bytes of every log; returns how many log files had something to print.
    mutating func printNew() throws -> Int {
        var printed = 0
        for name in sites() {
            guard let handle = FileHandle(forReadingAtPath: path(name)) else { continue }
            defer { try? handle.close() }
            let size = try handle.seekToEnd()
            var offset = offsets[name] ?? 0
            if size < offset { offset = 0 }  // replaced by a shorter file: start again
            guard size > offset else { continue }
            try handle.seek(toOffset: offset)
            if site == nil && lastPrinted != name {
                let header = (lastPrinted == nil ? "" : "\n") + "==> \(name) <==\n"
                FileHandle.standardOutput.write(Data(header.utf8))
            }
            while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty {
                FileHandle.standardOutput.write(piece)
                offset += UInt64(piece.count)
            }
            offsets[name] = offset
            lastPrinted = name
            printed += 1
        }
        return printed
    }
}
