import ArgumentParser
import FerrySupport
import FerryWorkspace

/// `ferry abort ID`: asks the server watcher to stop a job.
struct AbortCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort",
        abstract: "Ask the server's watcher to stop a job.",
        discussion: """
        Writes jobs/<id>/abort.request in the server's job store ({"by": "cli", "requested_at": …}). The \
        server watcher sees it at its next pass, stops the job's tasks on every site and sets the state to \
        finished:aborted; a job still `submitted` is aborted without being deployed. The CLI never changes \
        state.json itself. Aborting a finished job is an error (exit status 1).

        Examples:
          ferry abort 20261125-190501-ab12cd
          ferry abort 20261125-19 && ferry status 20261125-19
        """
    )

    @OptionGroup var id: JobIDArgument
    @OptionGroup var workspace: WorkspaceOption

    func run() async throws {
        let store = try workspace.store()
        let before = try store.record(id: id.id)
        if before.abortRequested && !before.state.state.isFinished {
            print("abort of \(before.id) was already requested; the server watcher stops it at its next pass")
            return
        }
        let job = try store.requestAbort(id: id.id)
        print("abort requested for \(job.id) (\(job.name), \(job.state.state.rawValue)); "
            + "the server watcher stops it at its next pass")
        StandardError.write("follow with: ferry status \(job.id)\n")
    }
}
