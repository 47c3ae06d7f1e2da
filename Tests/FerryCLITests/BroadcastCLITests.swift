import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `ferry transfer send --share`: broadcast once to three inboxes on one share, with kill -9 of the
/// sender and of a receiver mid-broadcast. Kill points never depend on speed: the receivers are stopped
/// (SIGSTOP) while the sender fills its window, and the sender is dead while a receiver drains it.
@Suite struct BroadcastCLITests {
    let flow = ["--poll", "20ms", "--polling-only", "--quiet"]

    private func waitFor(seconds: Double = 300, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(2_000)
        }
        return false
    }

    @Test func killedSenderAndReceiverResumeToIdenticalCopiesAndLeaveNothing() throws {
        let dir = try FerryCLI.temporaryDirectory("broadcast-kill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        var bytes = [UInt8](repeating: 0, count: 2_000_000)
        var state: UInt64 = 0xfeed
        for i in bytes.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        try Data(bytes).write(to: dir.appendingPathComponent("model.bin"))
        var to: [String] = []
        for k in 1...3 {
            try fm.createDirectory(at: dir.appendingPathComponent("share/site-\(k)/inbox"), withIntermediateDirectories: true)
            try fm.createDirectory(at: dir.appendingPathComponent("out-\(k)"), withIntermediateDirectories: true)
            #expect(try FerryCLI.run(["transfer", "keygen", "r\(k).key"], in: dir).status == 0)
            to += ["--to", "r\(k).key.pub"]
        }
        let receive = { (k: Int) in ["transfer", "receive", "share/site-\(k)/inbox", "out-\(k)", "--once", "--key", "r\(k).key"] + self.flow }
        let send = ["transfer", "send", "model.bin", "share/site-1/inbox", "share/site-2/inbox", "share/site-3/inbox",
                    "--share", "share", "--chunk", "64KiB", "--window", "4"] + flow + to
        var receivers = try (1...3).map { try FerryProcess(receive($0), in: dir, log: "receive-\($0).log") }
        defer { for r in receivers { r.resume(); r.kill9() } }
        for r in receivers { r.pause() }

        // The sender fills the area's window (chunks 1…4: nobody acknowledged anything) and is killed.
        let sender = try FerryProcess(send, in: dir, log: "send.log")
        let inbox1 = dir.path + "/share/site-1/inbox"
        var id: String?
        #expect(waitFor {
            id = ((try? fm.contentsOfDirectory(atPath: inbox1)) ?? []).first { $0.count == 32 }
            return id.map { fm.fileExists(atPath: dir.path + "/share/.ferry-broadcast/\($0)/chunk-000004") } ?? false
        })
        sender.kill9()
        let area = dir.path + "/share/.ferry-broadcast/" + (id ?? "")
        // No chunk went into an inbox: they are in the area only.
        #expect(((try? fm.contentsOfDirectory(atPath: inbox1 + "/" + (id ?? ""))) ?? []).allSatisfy { !$0.hasPrefix("chunk-") })

        // Receiver 1 drains the four chunks (the sender is dead: no more comes) and is killed.
        receivers[0].resume()
        #expect(waitFor {
            guard let data = fm.contents(atPath: inbox1 + "/" + (id ?? "") + "/ack"),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
            return (json["consumed"] as? Int ?? 0) >= 4
        })
        receivers[0].kill9()
        // Receivers 2 and 3 have acknowledged nothing: every chunk is still in the area.
        #expect((1...4).allSatisfy { fm.fileExists(atPath: area + String(format: "/chunk-%06d", $0)) })

        // The same commands resume: every recipient gets an identical copy, and the area goes.
        let resumed = try FerryProcess(send, in: dir, log: "send-resumed.log")
        receivers[0] = try FerryProcess(receive(1), in: dir, log: "receive-1-again.log")
        receivers[1].resume()
        receivers[2].resume()
        #expect(resumed.wait() == 0, "\(resumed.output)")
        #expect(resumed.output.contains("resumed"), "\(resumed.output)")
        #expect(resumed.output.contains("broadcast once to 3 inboxes"), "\(resumed.output)")
        for (k, r) in receivers.enumerated() {
            #expect(r.wait() == 0, "\(r.output)")
            #expect(fm.contents(atPath: dir.path + "/out-\(k + 1)/model.bin") == Data(bytes), "recipient \(k + 1)")
        }
        #expect(((try? fm.contentsOfDirectory(atPath: dir.path + "/share/.ferry-broadcast")) ?? []).isEmpty)
    }
}
