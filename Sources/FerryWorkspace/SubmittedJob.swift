import Foundation
import FerryJobs

/// What the job store needs to know about a job folder, read through FerryJobs (which validates it) and
/// checked against the federation the server workspace knows.
struct SubmittedJob {
    var name: String
    var description: String?
    var rounds: Int
    /// The sites the job deploys to, `all` expanded to the federation's clients: server first, then sorted.
    var sites: [String]
    /// The server app's `initial_model` (relative to the job folder), kept beside the archive.
    var initialModel: String?

    /// The client sites among ``sites`` (every site but the server): the per-site entries of `state.json`.
    var clientSites: [String] { sites.filter { $0 != JobDefinition.serverSite } }

    /// Loads and validates the job folder at `directory`, then checks it against the federation: every
    /// site of the deploy map must be one of the server workspace's sites, and the job must deploy to at
    /// least `min_clients` clients. `label` names the job in errors.
    static func load(directory: String, label: String, workspace: SiteWorkspace) throws(WorkspaceError) -> SubmittedJob {
        let folder: JobFolder
        do {
            folder = try JobFolder.load(directory: directory, displayName: label)
        } catch {
            throw .invalidJob(path: label, details: "\(error)")
        }
        let clients = workspace.clientNames
        var sites = Set<String>()
        var problems: [String] = []
        for entry in folder.definition.deploy {
            for site in entry.target.resolve(clientSites: clients) {
                sites.insert(site)
                let known = site == JobDefinition.serverSite || site == workspace.name || clients.contains(site)
                if !known {
                    problems.append("job.yaml deploys app '\(entry.app)' to site '\(site)', which the federation does not have")
                }
            }
        }
        let deployedClients = sites.filter { clients.contains($0) }.count
        let minClients = folder.serverApp.minClients
        if problems.isEmpty && deployedClients < minClients {
            problems.append("min_clients is \(minClients) but the job deploys to \(deployedClients) client site(s)")
        }
        if !problems.isEmpty {
            throw .notInFederation(path: label, project: workspace.project, problems: problems,
                                   sites: [workspace.name] + clients)
        }
        let ordered = sites.sorted { a, b in
            let aServer = a == JobDefinition.serverSite, bServer = b == JobDefinition.serverSite
            return aServer != bServer ? aServer : a < b
        }
        return SubmittedJob(name: folder.definition.name, description: folder.definition.description,
                            rounds: folder.serverApp.rounds, sites: ordered,
                            initialModel: folder.serverApp.initialModel.flatMap(ExternalFiles.normalized))
    }
}
