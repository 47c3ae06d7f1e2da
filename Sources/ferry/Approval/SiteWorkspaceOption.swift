import ArgumentParser
import FerryRuntime
import Foundation

/// `--workspace CLIENT_WS` of the approval commands: the client site's own workspace.
struct SiteWorkspaceOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The client site's workspace folder (default: $FERRY_WORKSPACE, else the current folder).",
        valueName: "CLIENT_WS"))
    var workspace: String?

    /// The site's pending jobs and the requests on them.
    func approvals() throws(ApprovalError) -> SiteApprovals {
        let environment = ProcessInfo.processInfo.environment["FERRY_WORKSPACE"].flatMap { $0.isEmpty ? nil : $0 }
        return try SiteApprovals(workspace: workspace ?? environment ?? ".")
    }
}
