import ArgumentParser
import FerrySupport
import FerryWorkspace

/// `ferry clone ID`: submit a job's archive again as a new job.
struct CloneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clone",
        abstract: "Submit a stored job again as a new job; print the new id.",
        discussion: """
        Checks the job's archive against the SHA-256 in its meta.json, unpacks it, validates it again \
        against the current federation and submits it as a new job (new id; meta.json records \
        `source: clone:<id>` and `cloned_from`). The archive is packed reproducibly, so the clone's \
        archive has the same bytes. The new id is printed on standard output.

        Examples:
          ferry clone 20261125-190501-ab12cd
          new=$(ferry clone 20261125-19)
        """
    )

    @OptionGroup var id: JobIDArgument
    @OptionGroup var workspace: WorkspaceOption

    func run() async throws {
        let copy = try workspace.store().clone(id: id.id)
        print(copy.id)
        StandardError.write("cloned \(copy.meta.clonedFrom ?? id.id) as \(copy.id) (\(copy.name))\n")
    }
}
