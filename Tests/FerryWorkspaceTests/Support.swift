import Foundation
@testable import FerryWorkspace

/// A temporary folder removed when the test ends.
final class TempDir {
    let path: String

    init(_ label: String = "ws") throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func sub(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let full = sub(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }
}

enum Fixtures {
    /// Writes a small valid job folder (schema.md) and returns its path.
    @discardableResult
    static func job(in dir: TempDir, folder: String = "job", name: String = "test-job", rounds: Int = 2,
                    clients: String = "all", minClients: Int = 1) throws -> String {
        try dir.write("\(folder)/job.yaml", """
            name: \(name)
            description: "a test job"
            min_clients: \(minClients)
            deploy:
              server: [server]
              client: \(clients)
            """)
        try dir.write("\(folder)/apps/server/app.yaml", """
            workflow: fedavg
            rounds: \(rounds)
            filters:
              to_clients: nf4
            """)
        try dir.write("\(folder)/apps/client/app.yaml", """
            executor:
              command: [ferry-example-trainer, --output, "{output_model}", --result, "{result}"]
            filters:
              to_server: fp16
            """)
        return dir.sub(folder)
    }

    /// Provisions `server` + `clients` clients under `dir/workspaces` and returns the opened server workspace.
    static func federation(in dir: TempDir, clients: Int = 2) throws -> SiteWorkspace {
        let project = ProjectFile.standard(name: "demo", clients: clients, baseDirectory: dir.path)
        _ = try Provisioner(project: project, outputDirectory: dir.sub("workspaces")).run()
        return try SiteWorkspace.open(dir.sub("workspaces/demo/server"))
    }
}
