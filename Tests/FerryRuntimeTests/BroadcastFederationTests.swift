import Crypto
import FerryRuntime
import FerryWorkspace
import Foundation
import Testing

/// Broadcast once in a real federation (`ferry poc`'s layout: every inbox under one folder, which the
/// server's site.yaml names as its share group): each round's global model goes to the four clients
/// with its chunks written once, every client trains on a byte-identical copy, and no shared area is
/// left behind.
@Suite(.tags(.spawnsProcesses)) struct BroadcastFederationTests {
    private struct Sent: Decodable {
        var kind: String
        var recipients: [String]
        var bytesOnWire: Int64
        var shareBytes: Int64?
        var error: String?
    }

    @Test func theGlobalModelIsWrittenOnceForFourClients() throws {
        let dir = try RT.temporaryDirectory("broadcast-federation")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trace = dir + "/inputs.txt"
        // Each client records the SHA-256 of the model it was given, then returns it unchanged.
        let script = """
        sha256sum "$FERRY_INPUT_MODEL" | cut -d' ' -f1 >> '\(trace)'
        cp "$FERRY_INPUT_MODEL" "$FERRY_OUTPUT_MODEL"
        printf '{"num_samples": 1, "metrics": {"loss": 1}}' > "$FERRY_RESULT"

        """
        let transfer = "transfer:\n  chunk: 256KiB\n  window: 2\n"
        let job = try RT.writeJob(in: dir + "/job", name: "bcast",
                                  server: .init(rounds: 1, minClients: 4, extra: "initial_model: init.safetensors\n" + transfer),
                                  command: ["sh", "run.sh"], files: ["run.sh": script])
        var state: UInt64 = 0xb0ad
        let values = (0..<(1 << 19)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
        }
        try RT.writeModel(job + "/init.safetensors", tensors: [("w", values)])
        let model = try Data(contentsOf: URL(fileURLWithPath: job + "/init.safetensors"))

        let fed = try RT.federation(in: dir, clients: 4)
        defer { fed.stop() }
        #expect(fed.server.shareGroupMembers == ["server", "site-1", "site-2", "site-3", "site-4"])
        let sites = try RT.run(RT.ferryBinary, ["sites", "--workspace", fed.server.directory])
        #expect(sites.output.contains("share group: \(fed.directory): server, site-1, site-2, site-3, site-4"), "\(sites.output)")
        let id = try fed.submit(job).id
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")

        // Every client trained on the model the server sent, byte for byte.
        let digest = SHA256.hash(data: model).map { String(format: "%02x", $0) }.joined()
        #expect(RT.lines(trace) == Array(repeating: digest, count: 4))

        // The task to the four clients wrote the model's bytes to the share once (≤ 1.1×), not 4 times.
        let sentDir = fed.server.directory + "/outbox/sent"
        let sent = try FileManager.default.contentsOfDirectory(atPath: sentDir).compactMap { name -> Sent? in
            guard let data = FileManager.default.contents(atPath: sentDir + "/" + name) else { return nil }
            return try? JSONDecoder().decode(Sent.self, from: data)
        }
        let tasks = sent.filter { $0.kind == "task" && $0.recipients.count == 4 }
        try #require(!tasks.isEmpty, "no task record to four clients among \(sent.map { ($0.kind, $0.recipients) })")
        for task in tasks {
            let share = try #require(task.shareBytes)
            #expect(task.error == nil)
            #expect(Double(share) <= 1.1 * Double(model.count), "wrote \(share) B to the share for a \(model.count)-byte model")
        }
        // No shared area is left behind once every client acknowledged.
        let areas = fed.directory + "/.ferry-broadcast"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: areas)) ?? []).isEmpty)
    }
}
