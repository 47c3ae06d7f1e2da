import Foundation
import FerryJobs

/// What the job store needs to know about a job folder, read through FerryJobs (which validates it).
struct SubmittedJob {
    var name: String
    var description: String?
    var rounds: Int
    /// The sites the job deploys to, `all` expanded to the federation's clients: server first, then sorted.
    var sites: [String]
    /// Named sites the federation does not have.
    var unknownSites: [String]

    static func load(directory: String, label: String, workspace: SiteWorkspace) throws(WorkspaceError) -> SubmittedJob {
        let folder: JobFolder
        do {
            folder = try JobFolder.load(directory: directory)
        } catch {
            throw .invalidJob(path: label, details: "\(error)")
        }
        let clients = workspace.clientNames
        var sites = Set<String>()
        for entry in folder.definition.deploy {
            for site in entry.target.resolve(clientSites: clients) { sites.insert(site) }
        }
        let known = Set(clients + [workspace.name, JobDefinition.serverSite])
        let ordered = sites.sorted { a, b in
            let aServer = a == JobDefinition.serverSite, bServer = b == JobDefinition.serverSite
            return aServer != bServer ? aServer : a < b
        }
        return SubmittedJob(name: folder.definition.name, description: folder.definition.description,
                            rounds: folder.serverApp.rounds, sites: ordered,
                            unknownSites: ordered.filter { !known.contains($0) })
    }
}
