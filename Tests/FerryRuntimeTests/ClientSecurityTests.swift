import FerryRuntime
import FerryTransfer
import FerryWorkspace
import Foundation
import Testing

/// A client watcher (a separate process) given deployments that did not come from its server as it
/// signed them: it refuses them, records why, and unpacks nothing.
@Suite(.tags(.spawnsProcesses)) struct ClientSecurityTests {
    /// Sends a deploy message for job `id` into site-1's inbox, as the server would but with `signature`.
    private func deploy(_ fed: LocalFederation, id: String, signature: String?, key: TransferSigningKey, dir: String) throws {
        let archive = dir + "/\(id).tar.gz"
        try Data("not really an archive".utf8).write(to: URL(fileURLWithPath: archive))
        var options = TransferOptions()
        options.pollInterval = .milliseconds(50)
        options.senderName = "server"
        options.stateDirectory = dir
        options.expire = .seconds(24 * 3600)  // never gives up during the test, however slow the watcher
        options.metadata = [MessageKey.kind: MessageKind.deploy.rawValue, MessageKey.job: id, MessageKey.site: "server",
                            MessageKey.task: "deploy", MessageKey.app: "client", MessageKey.message: "\(id).deploy.client"]
        if let signature { options.metadata[MessageKey.signature] = signature }
        let inbox = try #require(fed.server.inbox(ofPeer: "site-1"))
        // Sealed to site-1's encryption key, as the server's are: only the deployment's signature is wrong.
        let sealTo = try TransferRecipientKey(text: try #require(fed.server.peers["site-1"]?.encryptionKey))
        _ = try TransferSender(source: archive, inboxes: [inbox], options: options, signingKey: key, recipients: [sealTo]).run()
    }

    private func waitForFile(_ path: String) -> Bool {
        let deadline = ContinuousClock.now + RT.failsafe
        while !FileManager.default.fileExists(atPath: path) {
            if ContinuousClock.now >= deadline { return false }
            usleep(50_000)
        }
        return true
    }

    @Test(arguments: [nil, "bm90IGEgc2lnbmF0dXJl"] as [String?])
    func unsignedOrTamperedDeploymentIsRefused(signature: String?) throws {
        let dir = try RT.temporaryDirectory("client-refuse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fed = try RT.federation(in: dir, clients: 1)
        defer { fed.stop() }
        let serverKey = try TransferSigningKey(rawRepresentation: Array(fed.server.keys.privateKey.rawRepresentation))
        let id = JobID.make()
        try deploy(fed, id: id, signature: signature, key: serverKey, dir: dir)
        let client = fed.clients[0]
        let refused = client + "/jobs/\(id)/refused.json"
        #expect(waitForFile(refused))
        let text = (try? String(contentsOfFile: refused, encoding: .utf8)) ?? ""
        #expect(text.contains(signature == nil ? "unsigned" : "signature"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: client + "/jobs/\(id)/job"))
        #expect(!FileManager.default.fileExists(atPath: client + "/jobs/\(id)/deploy.json"))
    }

    @Test func transferFromAnUntrustedKeyIsRefused() throws {
        let dir = try RT.temporaryDirectory("client-untrusted")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fed = try RT.federation(in: dir, clients: 1)
        defer { fed.stop() }
        let id = JobID.make()
        #expect(throws: TransferError.self) {
            try deploy(fed, id: id, signature: "c2ln", key: TransferSigningKey.generate(), dir: dir)
        }
        #expect(!FileManager.default.fileExists(atPath: fed.clients[0] + "/jobs/\(id)"))
    }
}
