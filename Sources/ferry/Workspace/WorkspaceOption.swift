import ArgumentParser
import FerryWorkspace

/// `--workspace W`, shared by the job-lifecycle commands: where the server's job store is.
struct WorkspaceOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The server's workspace folder, or a folder with exactly one server workspace up to two levels below it "
            + "(default: $FERRY_WORKSPACE, else ./workspaces).",
        valueName: "W"))
    var workspace: String?

    /// The server's job store.
    func store() throws(WorkspaceError) -> JobStore {
        try ServerLocator.store(given: workspace)
    }
}

/// The job id argument: a full id or any unique prefix of one.
struct JobIDArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The job id, or any unique prefix of it (see `ferry jobs`).", valueName: "ID"))
    var id: String
}
