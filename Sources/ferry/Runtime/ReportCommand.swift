import ArgumentParser
import FerryRuntime
import FerrySupport
import FerryWorkspace
import Foundation

/// `ferry report ID...`: a self-contained HTML report of job runs.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report of one job, or a comparison of several.",
        discussion: """
        The page has no scripts and loads nothing from the network (inline CSS and SVG), so it can be mailed \
        or archived as one file. For each job: its state, time, bytes on the wire and before quantization, \
        a chart per metric with each site's value and the aggregate per round, a chart per live metric with \
        each site's training steps (what its executor logged during its tasks: ferry.log, FERRY_METRICS), \
        the bytes per round in each \
        direction with and without quantization, and a table of every site in every round. With several \
        ids it starts with a side-by-side comparison: final metrics, bytes, saving and time, and the \
        aggregate metrics of every job per round on shared charts.

        ID is a job id (or a unique prefix) in the server's job store, or the path of a job folder. \
        The server workspace is --workspace, else $FERRY_WORKSPACE, else the one under ./workspaces.

        The page is rendered from a mustache template. --print-template writes the built-in one; edit it \
        and pass it with --template FILE (its variables: docs/report-template.md). Values are HTML-escaped \
        by {{name}}; charts are SVG markup inserted with {{{svg}}}.

        Examples:
          ferry report 20260101-120000-ab12cd --workspace workspaces/demo/server
          ferry report 2026 -o run.html                  (a unique prefix)
          ferry report ID-A ID-B ID-C -o sweep.html      (comparison)
          ferry report --print-template > mine.mustache
          ferry report ID --template mine.mustache -o run.html
        """
    )

    @Argument(help: "Job ids (or unique prefixes, or job folders).")
    var ids: [String] = []

    @Option(help: "The server workspace, or a folder holding exactly one.")
    var workspace: String?

    @Option(name: [.short, .customLong("output")], help: "The HTML file to write (default report-<id>.html; - for standard output).")
    var output: String?

    @Option(help: ArgumentHelp("A mustache template for the page instead of the built-in one.", valueName: "file"))
    var template: String?

    @Flag(help: "Write the built-in page template to standard output (a starting point for --template) and exit.")
    var printTemplate = false

    func validate() throws {
        if printTemplate {
            guard ids.isEmpty, template == nil, output == nil, workspace == nil else {
                throw ValidationError("--print-template takes no job id and no other option")
            }
            return
        }
        guard !ids.isEmpty else { throw ValidationError("give at least one job id (or --print-template)") }
    }

    func run() throws {
        if printTemplate {
            print(DefaultReportTemplate.text, terminator: "")
            return
        }
        // The template first: a broken one fails before any job is read.
        let pageTemplate = try template.map { try ReportTemplate(file: $0) } ?? ReportTemplate.builtIn
        var runs: [JobRun] = []
        var server: SiteWorkspace?
        for id in ids {
            if FileManager.default.fileExists(atPath: FileSystem.join(id, "state.json")) {
                runs.append(try JobRun(jobDirectory: id))
                continue
            }
            if server == nil { server = try Self.serverWorkspace(workspace) }
            runs.append(try JobRun(id: id, server: server!))
        }
        let html = HTMLReport.page(runs: runs, template: pageTemplate)
        if output == "-" {
            print(html, terminator: "")
            return
        }
        let path = output ?? (runs.count == 1 ? "report-\(runs[0].id).html" : "report-\(runs.count)-jobs.html")
        try AtomicFile.write(string: html, to: path)
        print("wrote \(path) (\(ByteCount.format(Int64(html.utf8.count))), \(runs.count) job\(runs.count == 1 ? "" : "s"))")
    }

    /// The server workspace named by `option`, $FERRY_WORKSPACE or ./workspaces.
    static func serverWorkspace(_ option: String?) throws -> SiteWorkspace {
        let root = option ?? ProcessInfo.processInfo.environment["FERRY_WORKSPACE"] ?? "workspaces"
        let servers = SiteWorkspace.discoverServers(under: root)
        guard !servers.isEmpty else {
            throw RuntimeError.federation("no server workspace in \(root): pass --workspace with the server's workspace folder (ferry poc prints it)")
        }
        guard servers.count == 1 else {
            throw RuntimeError.federation("several server workspaces under \(root) (\(servers.joined(separator: ", "))); choose one with --workspace")
        }
        return try SiteWorkspace.open(servers[0])
    }
}
