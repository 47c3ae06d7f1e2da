import Foundation
import Testing
@testable import FerryJobs

/// A job folder written into a fresh temporary directory.
struct TempJob {
    let directory: String

    init(job: String, server: String, client: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-jobs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/apps/server", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/apps/client", withIntermediateDirectories: true)
        try job.write(toFile: directory + "/job.yaml", atomically: true, encoding: .utf8)
        try server.write(toFile: directory + "/apps/server/app.yaml", atomically: true, encoding: .utf8)
        try client.write(toFile: directory + "/apps/client/app.yaml", atomically: true, encoding: .utf8)
    }

    static let job = """
    name: t
    min_clients: 2
    deploy:
      server: [server]
      client: all
    """
    static let server = """
    workflow: fedavg
    rounds: 2
    round_timeout: 1m
    """
    static let client = """
    executor:
      command: [train, "{input_model}", "{output_model}", "{result}"]
      timeout: 90s
    """

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

@Test func validJobLoads() throws {
    let job = try TempJob(job: TempJob.job, server: TempJob.server, client: TempJob.client)
    defer { job.remove() }
    let folder = try JobFolder.load(directory: job.directory)
    #expect(folder.definition.name == "t")
    #expect(folder.serverApp.rounds == 2)
    #expect(folder.serverAppName == "server")
}

@Test func unknownKeyIsReportedWithLineAndSuggestion() throws {
    let job = try TempJob(job: TempJob.job, server: TempJob.server.replacingOccurrences(of: "rounds: 2", with: "roundz: 2"),
                          client: TempJob.client)
    defer { job.remove() }
    #expect {
        _ = try JobFolder.load(directory: job.directory)
    } throws: { error in
        guard let failure = error as? JobValidationFailure else { return false }
        let text = failure.description
        return text.contains("apps/server/app.yaml:2:1") && text.contains("rounds")
    }
}
