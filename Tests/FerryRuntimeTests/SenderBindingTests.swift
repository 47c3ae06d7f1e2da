import FerryRuntime
import FerryTransfer
import FerryWorkspace
import Foundation
import Testing

/// A message's sender is the site whose key signed it: a trusted client cannot speak for another site.
@Suite(.tags(.spawnsProcesses)) struct SenderBindingTests {
    /// site-1 signs (with its own, trusted key) a result that says it comes from site-2, while site-2
    /// still trains round 1: the server refuses it, names both sites in its log, and the round still
    /// waits for the real site-2, whose result completes it.
    @Test func aResultSignedBySite1ClaimingToBeSite2IsRefused() throws {
        let dir = try RT.temporaryDirectory("impersonation")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (job, gate) = try LivenessTests.gatedJob(in: dir, minClients: 2, rounds: 1, site: "site-2")
        let fed = try RT.federation(in: dir, clients: 2)
        defer {
            _ = FileManager.default.createFile(atPath: gate, contents: nil)
            fed.stop()
        }
        let id = try fed.submit(job).id
        let training = try RT.wait(fed, id) { $0.state.sites["site-2"] == "training round 1" || $0.state.state.isFinished }
        #expect(training.state.state == .running)

        let site1 = try SiteWorkspace.open(fed.clients[0])
        let model = dir + "/forged.safetensors"
        try RT.writeModel(model, tensors: [("weight", [Float](repeating: 1e6, count: 8))])
        var options = TransferOptions()
        options.pollInterval = .milliseconds(50)
        options.senderName = "site-2"
        options.stateDirectory = dir
        options.expire = .seconds(24 * 3600)
        options.metadata = [MessageKey.kind: MessageKind.result.rawValue, MessageKey.job: id, MessageKey.site: "site-2",
                            MessageKey.task: "train-r0001", MessageKey.round: "1", MessageKey.status: "ok",
                            MessageKey.result: #"{"metrics":{},"num_samples":1000000}"#,
                            MessageKey.message: "\(id).result.train-r0001.site-2"]
        let key = try TransferSigningKey(rawRepresentation: Array(site1.keys.privateKey.rawRepresentation))
        // Sealed to the server's encryption key, as site-1's own messages are: only the claimed sender is false.
        let sealTo = try TransferRecipientKey(text: try #require(site1.peers["server"]?.encryptionKey))
        _ = try TransferSender(source: model, inboxes: [fed.server.inboxDirectory], options: options, signingKey: key,
                               recipients: [sealTo]).run()

        let log = fed.server.logsDirectory + "/watcher.log"
        var run = try fed.run(id)
        try LivenessTests.eventually("the forged result refused or accepted", logs: [log]) {
            run = try fed.run(id)
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.contains("refused result message") || !run.rounds.isEmpty || run.state.state.isFinished
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("it claims to come from 'site-2' but is signed by the key of 'site-1'"), "\(text)")
        #expect(run.rounds.isEmpty && run.state.state == .running, "\(run.state)")
        #expect(run.state.sites["site-2"] == "training round 1", "\(run.state.sites)")

        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        let done = try RT.waitFinished(fed, id)
        #expect(done.state.state == .finishedCompleted, "\(done.state.reason ?? "")")
        let site2 = done.rounds.first?.clients["site-2"]
        #expect(site2?.status == "ok" && site2?.numSamples != 1_000_000, "\(String(describing: done.rounds.first))")
    }
}
