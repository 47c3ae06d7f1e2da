import ArgumentParser
import FerryWorkspace

/// `ferry delete ID [--force]`: remove a job and its files from the job store.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Remove a job and every file of it from the server's job store.",
        discussion: """
        The job folder is renamed to jobs/.deleted-<id>-<random> (so the job disappears at once) and then \
        removed. A job that is dispatched or running is refused: `ferry abort` it first, or pass --force \
        when no watcher is running it. A damaged job (missing or unreadable meta.json/state.json) can only \
        be removed with --force. Copy what you need first with `ferry download`.

        Examples:
          ferry delete 20261125-190501-ab12cd
          ferry delete 20261125-19 --force
        """
    )

    @OptionGroup var id: JobIDArgument
    @OptionGroup var workspace: WorkspaceOption

    @Flag(name: .long, help: "Delete even a running or damaged job.")
    var force = false

    func run() async throws {
        let store = try workspace.store()
        let full = try store.resolve(id: id.id)
        try store.delete(id: full, force: force)
        print("deleted \(full)")
    }
}
