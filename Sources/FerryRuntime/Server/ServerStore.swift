import FerrySupport
import FerryWorkspace
import Foundation

/// The runtime's view of the server's job store (FerryWorkspace's ``JobStore``): the watcher is the
/// only writer of a running job's `state.json`.
final class ServerStore {
    let store: JobStore
    /// Replaced when the federation changes the server's key (``ServerRole/workspaceChanged(_:)``).
    var workspace: SiteWorkspace

    init(workspace: SiteWorkspace) throws {
        self.workspace = workspace
        self.store = try JobStore(workspace: workspace)
    }

    func jobDirectory(_ id: String) -> String { JobPaths(directory: FileSystem.join(workspace.jobsDirectory, id)).directory }
    func paths(_ id: String) -> JobPaths { JobPaths(directory: jobDirectory(id)) }
    func archivePath(_ id: String) -> String { paths(id).archive }

    /// All jobs, oldest first.
    func records() -> [JobRecord] {
        store.list().sorted { $0.id < $1.id }
    }

    func isAbortRequested(_ id: String) -> Bool { FileSystem.exists(paths(id).abortRequest) }

    /// The archive's signature text (base64), as stored in `job.sig`.
    func signature(_ id: String) throws -> String {
        guard let text = try? String(contentsOfFile: paths(id).signature, encoding: .utf8) else {
            throw RuntimeError.federation("job \(id) has no signature file job.sig (unsigned job)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Checks the archive against `job.sig` with the server's own key, and the files kept beside it
    /// against `files.sig`; returns those files (nil when the job has none). The archive is read once.
    @discardableResult
    func verify(_ id: String) throws -> ExternalFiles? {
        let job = paths(id)
        let sha = try JobSignature.verify(archive: job.archive, signatureFile: job.signature,
                                          publicKey: workspace.keys.publicKey)
        return try ExternalFiles.verified(job, publicKey: workspace.keys.publicKey, archiveSHA256: sha)
    }

    /// Atomic read-modify-write of `state.json`.
    func update(_ id: String, _ change: (inout JobStateFile) -> Void) throws {
        try store.update(id: id) { file in
            change(&file)
            file.updatedAt = Date()
        }
    }
}

extension JobStateFile {
    /// Sets the state; `finished:*` states also stamp `finished_at`.
    var stateValue: JobState {
        get { state }
        set { state = newValue }
    }
}

extension JobState {
    static var completed: JobState { .finishedCompleted }
    static var failed: JobState { .finishedFailed }
    static var aborted: JobState { .finishedAborted }
}
