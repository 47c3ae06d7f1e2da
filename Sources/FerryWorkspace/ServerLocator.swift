import FerrySupport
import Foundation

/// Finds the server workspace that job commands (`ferry submit`, `ferry jobs`, …) work on.
///
/// The folder searched is the one given (`--workspace`), else the environment variable
/// `FERRY_WORKSPACE`, else `./workspaces`. It may be the server's workspace itself or a folder with
/// server workspaces up to two levels below it (``SiteWorkspace/discoverServers(under:)``); exactly one
/// must be found.
public enum ServerLocator {
    /// The environment variable consulted when no folder is given.
    public static let environmentVariable = "FERRY_WORKSPACE"
    /// The folder searched when neither a folder nor the environment variable is given.
    public static let defaultFolder = "workspaces"

    /// The folder that will be searched, and where that choice came from (`--workspace`, `$FERRY_WORKSPACE`, default).
    public static func searchFolder(given: String?,
                                    environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (folder: String, origin: String) {
        if let given, !given.isEmpty { return (given, "--workspace") }
        if let value = environment[environmentVariable], !value.isEmpty { return (value, "$" + environmentVariable) }
        return (defaultFolder, "the default folder")
    }

    /// Opens the single server workspace found from `given` / the environment / `./workspaces`.
    /// - Throws: ``WorkspaceError/serverNotFound(folder:origin:found:)`` when none or several are found, or
    ///   the errors of ``SiteWorkspace/open(_:)``.
    public static func locate(given: String?,
                              environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(WorkspaceError) -> SiteWorkspace {
        let (folder, origin) = searchFolder(given: given, environment: environment)
        let servers = SiteWorkspace.discoverServers(under: folder)
        guard servers.count == 1 else {
            if servers.isEmpty, FileManager.default.fileExists(atPath: FileSystem.join(folder, "site.yaml")) {
                // A client workspace, or a damaged one: let open() say which.
                let workspace = try SiteWorkspace.open(folder)
                throw .notServer(path: workspace.directory, role: workspace.role)
            }
            throw .serverNotFound(folder: folder, origin: origin, found: servers)
        }
        return try SiteWorkspace.open(servers[0])
    }

    /// The job store of the server workspace found by ``locate(given:environment:)``.
    public static func store(given: String?,
                             environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(WorkspaceError) -> JobStore {
        try JobStore(workspace: try locate(given: given, environment: environment))
    }
}
