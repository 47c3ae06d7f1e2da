import Foundation
import Testing
import FerryJobs

/// Job folders that try to reach outside themselves through paths: refused at validation, with the
/// offending value named, before anything is packed, shipped or run.
@Suite struct HostileJobFolderTests {
    private func refusal(_ files: [String: String?], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let fixture = try JobFixture(files)
        defer { fixture.remove() }
        return fixture.diagnostics(sourceLocation: sourceLocation).map(\.description).joined(separator: "\n")
    }

    private static let serverApp = "workflow: fedavg\nrounds: 2\nround_timeout: 1h\n"

    @Test(arguments: ["../../etc/passwd", "models/../../../secret.safetensors", "/etc/passwd"])
    func initialModelOutsideTheJobFolderIsRefused(path: String) throws {
        let text = try refusal(["apps/server/app.yaml": Self.serverApp + "initial_model: \"\(path)\"\n"])
        #expect(text.contains("initial_model") && text.contains(path), "\(text)")
    }

    @Test func initialModelLinkedToOutsideTheJobFolderIsRefused() throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-outside-\(UUID().uuidString).safetensors").path
        try Data([0, 0, 0, 0, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: outside))
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let fixture = try JobFixture(["apps/server/app.yaml": Self.serverApp + "initial_model: m.safetensors\n"])
        defer { fixture.remove() }
        try FileManager.default.createSymbolicLink(atPath: fixture.directory + "/m.safetensors", withDestinationPath: outside)
        let text = fixture.diagnostics().map(\.description).joined(separator: "\n")
        #expect(text.contains("link to outside the job folder"), "\(text)")
    }

    @Test(arguments: ["../../../bin/evil", "custom/../../../../tmp/x.sh"])
    func programLeavingTheAppFolderIsRefused(program: String) throws {
        let text = try refusal(["apps/client/app.yaml": "executor:\n  command: [\"\(program)\", \"{input_model}\"]\n  timeout: 90s\n"])
        #expect(text.contains("leaves the app folder"), "\(text)")
    }

    @Test(arguments: ["../server", "..", "a/b", "/abs"])
    func deployingAnAppOutsideApps(name: String) throws {
        let job = "name: t\nmin_clients: 2\ndeploy:\n  server: [server]\n  \"\(name)\": all\n"
        let text = try refusal(["job.yaml": job])
        #expect(text.contains("invalid app name"), "\(text)")
    }

    @Test func unknownPlaceholderIsRefused() throws {
        let text = try refusal(["apps/client/app.yaml": "executor:\n  command: [train, \"{input_model}\", \"{home}/.ssh/id_ed25519\"]\n  timeout: 90s\n"])
        #expect(text.contains("unknown placeholder '{home}'"), "\(text)")
    }
}
