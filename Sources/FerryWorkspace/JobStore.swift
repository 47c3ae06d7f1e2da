import Crypto
import Foundation
import FerryArchive
import FerryJobs
import FerrySupport
import Synchronization

/// The server's job store: `<server workspace>/jobs/<job-id>/` (layout in docs/workspaces.md).
///
/// Every file is written atomically; a new job is assembled in `jobs/.staging-<id>/` and renamed into
/// place, so a job folder is either complete or absent. Hidden folders (`.staging-*`, `.deleted-*`,
/// `.unpack-*`) are never jobs.
public struct JobStore: Sendable {
    /// The server workspace the store belongs to.
    public let workspace: SiteWorkspace
    /// `<workspace>/jobs`.
    public var directory: String { workspace.jobsDirectory }

    /// The store of a server workspace.
    /// - Throws: ``WorkspaceError/notServer(path:role:)`` for a client workspace.
    public init(workspace: SiteWorkspace) throws(WorkspaceError) {
        guard workspace.role == .server else { throw .notServer(path: workspace.directory, role: workspace.role) }
        self.workspace = workspace
    }

    // MARK: Submission

    /// Validates (FerryJobs), packs (FerryArchive, reproducible tar.gz), signs with the server key and
    /// places a job in the store. `path` is a job folder or a job archive (`.tar.gz`, `.tar.zst`, `.zip`:
    /// unpacked safely and re-packed, so the store always holds a verified tar.gz).
    /// - Parameters:
    ///   - largeFileThreshold: files larger than this (bytes) are kept beside the archive, never
    ///     compressed, as the server app's `initial_model` always is (docs/workspaces.md, "External files").
    ///   - progress: bytes packed so far and the total.
    public func submit(jobDirectoryOrArchive path: String, now: Date = Date(),
                       largeFileThreshold: Int64 = JobStore.defaultLargeFileThreshold,
                       progress: (@Sendable (Int64, Int64) -> Void)? = nil) throws(WorkspaceError) -> JobRecord {
        let source = Provisioner.absolute(path, base: FileManager.default.currentDirectoryPath)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw .submitFailed(path: path, reason: "no such file or folder")
        }
        if isDirectory.boolValue {
            return try store(jobDirectory: source, sourceLabel: source, clonedFrom: nil, now: now,
                             largeFileThreshold: largeFileThreshold, progress: progress)
        }
        return try withUnpacked(archive: source, label: path) { dir throws(WorkspaceError) in
            try store(jobDirectory: dir, sourceLabel: source, clonedFrom: nil, now: now,
                      largeFileThreshold: largeFileThreshold, progress: progress)
        }
    }

    /// The job folders a submission of `path` covers: `[path]` for a job folder or an archive, the
    /// sub-folders holding a `job.yaml` (sorted) for a folder of jobs (a sweep), `[]` when there is none.
    public static func submissionTargets(_ path: String) -> [String] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        if !isDirectory.boolValue || fm.fileExists(atPath: FileSystem.join(path, "job.yaml")) { return [path] }
        return ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            .map { FileSystem.join(path, $0) }
            .filter { fm.fileExists(atPath: FileSystem.join($0, "job.yaml")) }
    }

    /// Submits the same archive as a new job (re-validated against the current federation). The original's
    /// archive must verify first (``verify(id:trustedKey:)``): a tampered or unsigned job is never cloned.
    public func clone(id: String, now: Date = Date()) throws(WorkspaceError) -> JobRecord {
        let original = try record(id: id)
        let external = try verify(id: original.id)
        return try withUnpacked(archive: original.paths.archive, label: original.paths.archive) { dir throws(WorkspaceError) in
            try external?.place(from: original.paths, into: dir)
            // The clone keeps the original's files beside its archive, whatever their size.
            return try store(jobDirectory: dir, sourceLabel: "clone:\(original.id)", clonedFrom: original.id, now: now,
                             largeFileThreshold: Self.defaultLargeFileThreshold,
                             alsoBeside: Set(external?.files.map(\.path) ?? []), progress: nil)
        }
    }

    private func withUnpacked(archive: String, label: String,
                              _ body: (String) throws(WorkspaceError) -> JobRecord) throws(WorkspaceError) -> JobRecord {
        try ensureJobsDirectory()
        let temp = FileSystem.join(directory, ".unpack-" + String(UInt64.random(in: 0...UInt64.max), radix: 36))
        defer { try? FileManager.default.removeItem(atPath: temp) }
        do {
            _ = try JobArchive.unpack(archive: archive, into: temp)
        } catch {
            throw .submitFailed(path: label, reason: "not a usable job archive: \(error)")
        }
        return try body(temp)
    }

    private func ensureJobsDirectory() throws(WorkspaceError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory, operation: "create the job store", reason: error.localizedDescription)
        }
    }

    private func store(jobDirectory: String, sourceLabel: String, clonedFrom: String?, now: Date,
                       largeFileThreshold: Int64, alsoBeside: Set<String> = [],
                       progress: (@Sendable (Int64, Int64) -> Void)?) throws(WorkspaceError) -> JobRecord {
        let job = try SubmittedJob.load(directory: jobDirectory, label: sourceLabel, workspace: workspace)
        let now = now.stored
        try ensureJobsDirectory()
        let fm = FileManager.default
        var id = JobID.make(at: now)
        while fm.fileExists(atPath: FileSystem.join(directory, id)) { id = JobID.make(at: now) }
        let staging = FileSystem.join(directory, ".staging-" + id)
        defer { try? fm.removeItem(atPath: staging) }
        let paths = JobPaths(directory: staging)
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: false)
            for dir in [paths.roundsDirectory, paths.logsDirectory, paths.modelsDirectory] {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: false)
            }
        } catch {
            throw .io(path: staging, operation: "create the job folder", reason: error.localizedDescription)
        }
        // Model weights and other large files stay out of the archive (never gzip-compressed; a client
        // receives only those of its own app, by the chunked transfer).
        let external = try Self.filesBeside(jobDirectory, label: sourceLabel, initialModel: job.initialModel,
                                            threshold: largeFileThreshold, also: alsoBeside)
        let packed: PackResult
        do {
            packed = try JobArchive.pack(directory: jobDirectory, to: paths.archive, format: .tarGz, excluding: Set(external),
                                         progress: progress.map { callback in { callback($0, $1) } })
        } catch {
            throw .submitFailed(path: sourceLabel, reason: "cannot pack the job: \(error)")
        }
        if !external.isEmpty {
            try ExternalFiles.store(external, of: jobDirectory, archiveSHA256: packed.sha256, into: paths, keys: workspace.keys)
        }
        let signature = try JobSignature.sign(sha256Hex: packed.sha256, keys: workspace.keys)
        do {
            try AtomicFile.write(string: signature, to: paths.signature)
        } catch {
            throw .io(path: paths.signature, operation: "write", reason: "\(error)")
        }
        let meta = JobMeta(id: id, name: job.name, description: job.description, submittedAt: now,
                           archiveSHA256: packed.sha256, archiveBytes: packed.bytes, source: sourceLabel,
                           clonedFrom: clonedFrom, signedBy: workspace.name, sites: job.sites)
        let state = JobStateFile(id: id, name: job.name, rounds: job.rounds,
                                 sites: Dictionary(uniqueKeysWithValues: job.clientSites.map { ($0, "pending") }),
                                 updatedAt: now)
        try JobStoreCoding.write(meta, to: paths.meta)
        try JobStoreCoding.write(state, to: paths.state)
        let final = FileSystem.join(directory, id)
        if rename(staging, final) != 0 {
            throw .io(path: final, operation: "move the job into the store",
                      reason: String(cString: strerror(errno)))
        }
        AtomicFile.syncDirectory(.init(directory))
        return JobRecord(paths: JobPaths(directory: final), meta: meta, state: state, abortRequested: false)
    }

    /// Files larger than this are kept beside a job's archive unless `ferry submit --large-file-threshold`
    /// says otherwise: 16 MiB.
    public static let defaultLargeFileThreshold: Int64 = 16 << 20

    /// The files of a job folder kept beside its archive: the initial model, every file over
    /// `threshold` bytes and `also`, sorted.
    private static func filesBeside(_ jobDirectory: String, label: String, initialModel: String?, threshold: Int64,
                                    also: Set<String>) throws(WorkspaceError) -> [String] {
        var paths = also
        if let initialModel { paths.insert(initialModel) }
        do {
            paths.formUnion(try JobArchive.largeFiles(in: jobDirectory, over: threshold))
        } catch {
            throw .submitFailed(path: label, reason: "cannot list the job's files: \(error)")
        }
        return paths.sorted()
    }

    // MARK: Reading

    /// The ids of the jobs in the store, oldest first.
    public func ids() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") && JobID.isValid($0) }.sorted()
    }

    /// The full id for an id or a unique prefix of one.
    public func resolve(id: String) throws(WorkspaceError) -> String {
        let all = ids()
        if all.contains(id) { return id }
        let matches = id.isEmpty ? [] : all.filter { $0.hasPrefix(id) }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty { throw .jobNotFound(id) }
        throw .ambiguousJobID(id, matches: matches)
    }

    /// The paths of a job (id or unique prefix).
    public func paths(id: String) throws(WorkspaceError) -> JobPaths {
        JobPaths(directory: FileSystem.join(directory, try resolve(id: id)))
    }

    /// A job's meta record, state and abort flag (id or unique prefix).
    public func record(id: String) throws(WorkspaceError) -> JobRecord {
        let full = try resolve(id: id)
        let paths = JobPaths(directory: FileSystem.join(directory, full))
        let meta = try JobStoreCoding.read(JobMeta.self, from: paths.meta, id: full)
        let state = try JobStoreCoding.read(JobStateFile.self, from: paths.state, id: full)
        return JobRecord(paths: paths, meta: meta, state: state,
                         abortRequested: FileManager.default.fileExists(atPath: paths.abortRequest))
    }

    /// A job's `state.json` (id or unique prefix).
    public func state(id: String) throws(WorkspaceError) -> JobStateFile {
        let full = try resolve(id: id)
        return try JobStoreCoding.read(JobStateFile.self, from: JobPaths(directory: FileSystem.join(directory, full)).state,
                                       id: full)
    }

    /// Every readable job, oldest first, and the damaged ones with the reason.
    public func scan() -> (jobs: [JobRecord], damaged: [(id: String, reason: String)]) {
        var jobs: [JobRecord] = []
        var damaged: [(id: String, reason: String)] = []
        for id in ids() {
            do {
                jobs.append(try record(id: id))
            } catch {
                if case let .corruptJob(_, reason) = error { damaged.append((id, reason)) } else {
                    damaged.append((id, error.description))
                }
            }
        }
        return (jobs, damaged)
    }

    /// Every readable job, oldest first.
    public func list() -> [JobRecord] { scan().jobs }

    /// The jobs waiting for the watcher (`submitted`), oldest first.
    public func submitted() -> [JobRecord] { list().filter { $0.state.state == .submitted } }

    // MARK: Changing

    /// Atomic read-modify-write of `state.json`; sets `updated_at`, and for a final state `finished_at`
    /// (when unset) and a `reason` for `finished:failed` / `finished:aborted` (when missing). Dates are
    /// stored in whole seconds, and the returned record equals what was written. Serialized within the process and,
    /// on a local disk, across processes (`flock` on the job folder). Only the server watcher calls this
    /// once a job has been picked up.
    @discardableResult
    public func update(id: String, now: Date = Date(),
                       _ mutate: (inout JobStateFile) -> Void) throws(WorkspaceError) -> JobStateFile {
        let full = try resolve(id: id)
        let paths = JobPaths(directory: FileSystem.join(directory, full))
        return try Self.stateLock.withLock { _ throws(WorkspaceError) -> JobStateFile in
            let fd = open(paths.directory, O_RDONLY | O_DIRECTORY)
            if fd >= 0 { _ = flock(fd, LOCK_EX) }
            defer { if fd >= 0 { _ = flock(fd, LOCK_UN); close(fd) } }
            var state = try JobStoreCoding.read(JobStateFile.self, from: paths.state, id: full)
            mutate(&state)
            state.id = full
            state.updatedAt = now
            if state.state.isFinished {
                if state.finishedAt == nil { state.finishedAt = now }
                if state.state != .finishedCompleted && (state.reason ?? "").isEmpty { state.reason = "no reason given" }
            }
            state = state.normalized
            try JobStoreCoding.write(state, to: paths.state)
            return state
        }
    }

    private static let stateLock = Mutex(())

    /// Asks the watcher to abort a job by writing `abort.request`.
    /// - Throws: ``WorkspaceError/invalidState(id:state:operation:hint:)`` when the job has already finished.
    @discardableResult
    public func requestAbort(id: String, by: String = "cli", now: Date = Date()) throws(WorkspaceError) -> JobRecord {
        var job = try record(id: id)
        if job.state.state.isFinished {
            throw .invalidState(id: job.id, state: job.state.state, operation: "abort",
                                hint: "the job has already finished; `ferry delete \(job.id)` removes it")
        }
        try JobStoreCoding.write(AbortRequest(requestedAt: now.stored, by: by), to: job.paths.abortRequest)
        job.abortRequested = true
        return job
    }

    /// Whether `abort.request` exists for the job.
    public func isAbortRequested(id: String) -> Bool {
        guard let paths = try? paths(id: id) else { return false }
        return FileManager.default.fileExists(atPath: paths.abortRequest)
    }

    /// The abort request, if there is one.
    public func abortRequest(id: String) throws(WorkspaceError) -> AbortRequest? {
        let paths = try paths(id: id)
        guard FileManager.default.fileExists(atPath: paths.abortRequest) else { return nil }
        return try JobStoreCoding.read(AbortRequest.self, from: paths.abortRequest, id: id)
    }

    /// Removes a job and everything in its folder. A job that is `dispatched` or `running` is refused
    /// unless `force` (abort it first); a damaged job can only be removed with `force`.
    public func delete(id: String, force: Bool = false) throws(WorkspaceError) {
        let full = try resolve(id: id)
        if !force {
            let state = try record(id: full).state
            if state.state.isActive {
                throw .invalidState(id: full, state: state.state, operation: "delete",
                                    hint: "`ferry abort \(full)` first, or pass --force if no watcher is running it")
            }
        }
        let from = FileSystem.join(directory, full)
        let to = FileSystem.join(directory, ".deleted-\(full)-" + String(UInt32.random(in: 0...UInt32.max), radix: 36))
        if rename(from, to) != 0 {
            throw .io(path: from, operation: "delete the job", reason: String(cString: strerror(errno)))
        }
        do {
            try FileManager.default.removeItem(atPath: to)
        } catch {
            throw .io(path: to, operation: "remove the deleted job's files", reason: error.localizedDescription)
        }
    }

    /// Checks `job.tar.gz` against `job.sig` with `trustedKey` (default: this server's own key) and
    /// against the SHA-256 in `meta.json`, and the files kept beside it against `files.sig`; returns
    /// those files (nil when the job has none). The archive is read once.
    @discardableResult
    public func verify(id: String, trustedKey: Curve25519.Signing.PublicKey? = nil) throws(WorkspaceError) -> ExternalFiles? {
        let job = try record(id: id)
        let (sha, _) = try JobSignature.digest(ofFile: job.paths.archive)
        guard let text = FileManager.default.contents(atPath: job.paths.signature) else {
            throw .signatureInvalid(path: job.paths.archive, reason: "job.sig is missing (unsigned job)")
        }
        try JobSignature.verify(sha256Hex: sha, signatureText: String(decoding: text, as: UTF8.self),
                                publicKey: trustedKey ?? workspace.keys.publicKey, archive: job.paths.archive)
        if sha != job.meta.archiveSHA256 {
            throw .signatureInvalid(path: job.paths.archive, reason: "job.tar.gz does not match the SHA-256 in meta.json")
        }
        return try ExternalFiles.verified(job.paths, publicKey: trustedKey ?? workspace.keys.publicKey, archiveSHA256: sha)
    }
}
