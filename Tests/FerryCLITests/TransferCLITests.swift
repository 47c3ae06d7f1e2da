import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A `ferry` process running in the background, its output going to a log file.
private final class FerryProcess {
    let process = Process()
    let log: URL

    init(_ arguments: [String], in directory: URL, log name: String) throws {
        log = directory.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.executableURL = FerryCLI.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// kill -9, then reap.
    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits for the exit (at most `seconds`, then kills it) and returns the status.
    func wait(seconds: Double = 60) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill9(); return -1 }
        return process.terminationStatus
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}

/// The chunks the receiver of `inbox` has acknowledged (0 when no ack yet).
private func acknowledged(_ inbox: URL) -> Int {
    let dirs = (try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? []
    for dir in dirs where dir.count == 32 {
        guard let data = FileManager.default.contents(atPath: inbox.path + "/" + dir + "/ack"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let consumed = json["consumed"] as? Int else { continue }
        return consumed
    }
    return 0
}

private func waitFor(seconds: Double = 60, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(1_000)
    }
    return false
}

/// Deterministic pseudo-random file contents.
private func writeRandom(_ url: URL, count: Int) throws {
    var state: UInt64 = 0x1234_5678
    var bytes = [UInt8](repeating: 0, count: count)
    for i in bytes.indices {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
    }
    try Data(bytes).write(to: url)
}

@Suite struct TransferCLITests {
    /// Slow enough polling that kill points fall in the middle of the transfer.
    let flow = ["--poll", "20ms", "--polling-only", "--quiet"]

    @Test func senderKilledAtSeveralPointsResumesToAnIdenticalFile() throws {
        let dir = try FerryCLI.temporaryDirectory("transfer-kill-sender")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        try writeRandom(dir.appendingPathComponent("model.bin"), count: 3_000_000)
        let inbox = dir.appendingPathComponent("inbox")
        let receiver = try FerryProcess(["transfer", "receive", "inbox", "out", "--once"] + flow, in: dir, log: "receive.log")
        defer { receiver.kill9() }
        let send = ["transfer", "send", "model.bin", "inbox", "--chunk", "64KiB", "--window", "4"] + flow
        for point in [6, 18, 30] {
            let sender = try FerryProcess(send, in: dir, log: "send.log")
            #expect(waitFor { acknowledged(inbox) >= point })
            sender.kill9()
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/out/model.bin"))
        }
        let last = try FerryProcess(send, in: dir, log: "send-last.log")
        #expect(last.wait() == 0, "\(last.output)")
        #expect(last.output.contains("resumed"))
        #expect(receiver.wait() == 0, "\(receiver.output)")
        #expect(FileManager.default.contents(atPath: dir.path + "/out/model.bin")
                == FileManager.default.contents(atPath: dir.path + "/model.bin"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/out").sorted() == [".ferry-received", "model.bin"])
    }

    @Test func receiverKilledAtSeveralPointsResumesToAnIdenticalFile() throws {
        let dir = try FerryCLI.temporaryDirectory("transfer-kill-receiver")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        try writeRandom(dir.appendingPathComponent("model.bin"), count: 3_000_000)
        let inbox = dir.appendingPathComponent("inbox")
        let sender = try FerryProcess(["transfer", "send", "model.bin", "inbox", "--chunk", "64KiB", "--window", "4"] + flow,
                                      in: dir, log: "send.log")
        defer { sender.kill9() }
        let receive = ["transfer", "receive", "inbox", "out", "--once"] + flow
        for point in [5, 17, 29] {
            let receiver = try FerryProcess(receive, in: dir, log: "receive.log")
            #expect(waitFor { acknowledged(inbox) >= point })
            receiver.kill9()
        }
        let last = try FerryProcess(receive, in: dir, log: "receive-last.log")
        #expect(last.wait() == 0, "\(last.output)")
        #expect(last.output.contains("received out/model.bin"))
        #expect(sender.wait() == 0, "\(sender.output)")
        #expect(FileManager.default.contents(atPath: dir.path + "/out/model.bin")
                == FileManager.default.contents(atPath: dir.path + "/model.bin"))
    }

    @Test func quantizedContainerTransferSurvivesKillsOfBothSides() throws {
        let dir = try FerryCLI.temporaryDirectory("transfer-kill-both")
        defer { try? FileManager.default.removeItem(at: dir) }
        for folder in ["inbox", "out"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        #expect(try FerryCLI.run(["model", "synth", "m.safetensors", "--like", "llama-tiny"], in: dir).status == 0)
        #expect(try FerryCLI.run(["model", "quantize", "m.safetensors", "q.safetensors", "--format", "nf4"], in: dir).status == 0)
        #expect(try FerryCLI.run(["model", "dequantize", "q.safetensors", "expected.safetensors"], in: dir).status == 0)
        let inbox = dir.appendingPathComponent("inbox")
        let send = ["transfer", "send", "m.safetensors", "inbox", "--mode", "container", "--quantize", "nf4",
                    "--chunk", "8KiB", "--window", "3"] + flow
        let receive = ["transfer", "receive", "inbox", "out", "--once"] + flow
        // Kill both sides at a sequence of points, restarting them each time.
        for (round, point) in [3, 8, 14].enumerated() {
            let sender = try FerryProcess(send, in: dir, log: "send-\(round).log")
            let receiver = try FerryProcess(receive, in: dir, log: "receive-\(round).log")
            #expect(waitFor { acknowledged(inbox) >= point })
            if round % 2 == 0 { receiver.kill9(); sender.kill9() } else { sender.kill9(); receiver.kill9() }
        }
        let sender = try FerryProcess(send, in: dir, log: "send-last.log")
        let receiver = try FerryProcess(receive, in: dir, log: "receive-last.log")
        #expect(receiver.wait() == 0, "\(receiver.output)")
        #expect(sender.wait() == 0, "\(sender.output)")
        #expect(sender.output.contains("resumed"))
        #expect(FileManager.default.contents(atPath: dir.path + "/out/m.safetensors")
                == FileManager.default.contents(atPath: dir.path + "/expected.safetensors"))
    }

    @Test func sendToAMissingInboxFailsWithExitOne() throws {
        let dir = try FerryCLI.temporaryDirectory("transfer-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeRandom(dir.appendingPathComponent("a.bin"), count: 10)
        let r = try FerryCLI.run(["transfer", "send", "a.bin", "no-such-inbox", "--quiet"], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("no-such-inbox: inbox folder does not exist"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        for flags in [["--mode", "container"], ["--quantize", "nf4"]] {
            let r = try FerryCLI.run(["transfer", "send", "a.bin", "inbox", "--quiet"] + flags, in: dir)
            #expect(r.status == 1)
            #expect(r.stderr.contains("need a safetensors model"), "\(r.stderr)")
        }
        let bad = try FerryCLI.run(["transfer", "send", "a.bin", "x", "--mode", "zip"], in: dir)
        #expect(bad.status == 2)
        let chunk = try FerryCLI.run(["transfer", "send", "a.bin", "x", "--chunk", "lots"], in: dir)
        #expect(chunk.status == 2)
        #expect(chunk.stderr.contains("--chunk"))
    }

    @Test func helpTeachesWithExamples() throws {
        let send = try FerryCLI.run(["transfer", "send", "--help"])
        #expect(send.status == 0)
        #expect(send.stdout.contains("ferry transfer send model.safetensors inbox-1 inbox-2 inbox-3 --quantize nf4"))
        let receive = try FerryCLI.run(["transfer", "receive", "--help"])
        #expect(receive.stdout.contains("--polling-only"))
    }
}
