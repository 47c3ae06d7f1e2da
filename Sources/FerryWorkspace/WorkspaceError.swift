import FerryJobs
import Foundation

/// One problem in a project file, located by line and column (line and column 0 when it concerns the
/// whole file). The same type as a job folder's diagnostics: `FILE:LINE:COL: error: WHAT` and a `hint:` line.
public typealias ProjectDiagnostic = Diagnostic

extension Diagnostic {
    /// A diagnostic with an optional hint (none when `nil`).
    init(file: String, line: Int, column: Int, message: String, hint: String? = nil) {
        self.init(file: file, line: line, column: column, message: message, hint: hint ?? "")
    }
}

/// Errors from provisioning, workspaces and the job store. Each one says what to do.
public enum WorkspaceError: Error, CustomStringConvertible, Sendable {
    /// The project file has problems; all of them are listed.
    case invalidProject([ProjectDiagnostic])
    /// A folder is not a ferry site workspace.
    case notAWorkspace(path: String, reason: String)
    /// `site.yaml` exists but cannot be read.
    case invalidSiteFile(path: String, reason: String)
    /// A key file cannot be read or holds no valid key.
    case invalidKey(path: String, reason: String)
    /// An existing key does not match what the workspace records.
    case keyMismatch(site: String, path: String, reason: String)
    /// `ferry provision` over a workspace made by `ferry site init` (its site.yaml maps a share or names
    /// a federation file): its peers belong to the signed federation file, not to a project file.
    case federatedWorkspace(site: String, path: String)
    /// The operation needs the server's workspace.
    case notServer(path: String, role: SiteRole)
    /// No single server workspace was found in `folder` (given by `origin`); `found` lists what was found.
    case serverNotFound(folder: String, origin: String, found: [String])
    /// No job has this id (or id prefix).
    case jobNotFound(String)
    /// A prefix matches several jobs.
    case ambiguousJobID(String, matches: [String])
    /// The job exists but is incomplete or corrupted.
    case corruptJob(id: String, reason: String)
    /// The operation is not allowed in the job's current state.
    case invalidState(id: String, state: JobState, operation: String, hint: String)
    /// A job folder or archive could not be submitted.
    case submitFailed(path: String, reason: String)
    /// The job does not validate; `details` holds FerryJobs' diagnostics (`FILE:LINE:COL: error: …`).
    case invalidJob(path: String, details: String)
    /// The job does not fit the federation: it names sites the federation does not have, or needs more
    /// clients than it deploys to. `problems` lists each one; `sites` are the federation's sites.
    case notInFederation(path: String, project: String, problems: [String], sites: [String])
    /// The archive's signature does not verify.
    case signatureInvalid(path: String, reason: String)
    /// A file-system operation failed.
    case io(path: String, operation: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidProject(diagnostics):
            return diagnostics.map(\.description).joined(separator: "\n")
        case let .notAWorkspace(path, reason):
            return "\(path) is not a ferry site workspace: \(reason)\n    hint: create workspaces with `ferry provision PROJECT.yaml`, then pass the site folder (the one holding site.yaml)"
        case let .invalidSiteFile(path, reason):
            return "\(path): \(reason)\n    hint: re-run `ferry provision` for the project to rewrite site.yaml (keys are kept)"
        case let .invalidKey(path, reason):
            return "\(path): \(reason)\n    hint: a key file holds one line, the base64 of the 32-byte raw Ed25519 key; re-provision with --force-new-keys to replace it"
        case let .keyMismatch(site, path, reason):
            return "site '\(site)': \(path): \(reason)\n    hint: restore the original key, or re-run `ferry provision` with --force-new-keys to replace the keys (peers are re-trusted)"
        case let .federatedWorkspace(site, path):
            return "site '\(site)': \(path) was made by `ferry site init` (it has share: or federation:): `ferry provision` would rewrite its peers and trusted keys behind the signed federation file, so nothing was written\n    hint: manage this federation with `ferry federation add/remove` and `ferry site join` (docs/deployment.md), or give `ferry provision` a fresh folder (project file: 'workspace')"
        case let .notServer(path, role):
            return "\(path) is a \(role.rawValue) workspace; the job store lives in the server's workspace\n    hint: pass the server site's folder with --workspace"
        case let .serverNotFound(folder, origin, found):
            if found.isEmpty {
                return "no server workspace in \(folder) (\(origin))\n    hint: pass the server's workspace folder with --workspace or set $FERRY_WORKSPACE; create workspaces with `ferry provision PROJECT.yaml`"
            }
            return "\(found.count) server workspaces in \(folder) (\(origin)): \(found.joined(separator: ", "))\n    hint: choose one with --workspace"
        case let .jobNotFound(id):
            return "no job '\(id)' in the job store\n    hint: `ferry jobs` lists the jobs and their ids"
        case let .ambiguousJobID(id, matches):
            return "job id prefix '\(id)' matches \(matches.count) jobs: \(matches.joined(separator: ", "))\n    hint: give more characters of the id"
        case let .corruptJob(id, reason):
            return "job \(id) is damaged: \(reason)\n    hint: `ferry delete \(id) --force` removes it; `ferry clone` cannot help without its archive"
        case let .invalidState(id, state, operation, hint):
            return "cannot \(operation) job \(id): it is \(state.rawValue)\n    hint: \(hint)"
        case let .submitFailed(path, reason):
            return "\(path): \(reason)"
        case let .invalidJob(_, details):
            return details
        case let .notInFederation(path, project, problems, sites):
            return "\(path): the job does not fit federation '\(project)' (sites: \(sites.joined(separator: ", "))):\n"
                + problems.map { "    - \($0)" }.joined(separator: "\n")
                + "\n    hint: fix the deploy map or min_clients in job.yaml, or add the sites to the project file and re-run `ferry provision`"
        case let .signatureInvalid(path, reason):
            return "\(path): signature check failed: \(reason)\n    hint: the archive was changed after it was signed or was signed by another server; refuse it"
        case let .io(path, operation, reason):
            return "\(path): cannot \(operation): \(reason)"
        }
    }
}
