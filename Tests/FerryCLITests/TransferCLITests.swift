import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A `ferry` process running in the background, its output going to a log file.
final class FerryProcess {
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

    /// SIGSTOP, and waits until every thread of the process is stopped (`kill` returns before the
    /// signal has stopped threads running on the other core).
    func pause() {
        let pid = process.processIdentifier
        kill(pid, SIGSTOP)
        _ = waitFor {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            let states = tasks.compactMap { task -> Character? in
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return nil }
                return stat[stat.index(after: close)...].dropFirst().first
            }
            return !process.isRunning || (!states.isEmpty && states.allSatisfy { $0 == "T" || $0 == "t" })
        }
    }

    /// SIGCONT.
    func resume() { kill(process.processIdentifier, SIGCONT) }

    /// Waits for the exit (the failsafe `seconds` at most, then kills it) and returns the status.
    func wait(seconds: Double = failsafeSeconds) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill9(); return -1 }
        return process.terminationStatus
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}

/// How long a test waits for something that must happen: a failsafe against a hang, not a timing.
private let failsafeSeconds: Double = 300

/// The transfer folder in `inbox` (its only 32-hex subfolder), if there is one yet.
private func transferFolder(_ inbox: URL) -> String? {
    ((try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? []).first { $0.count == 32 }
        .map { inbox.path + "/" + $0 }
}

/// The chunks the receiver of `inbox` has acknowledged (0 when no ack yet).
private func acknowledged(_ inbox: URL) -> Int {
    guard let dir = transferFolder(inbox), let data = FileManager.default.contents(atPath: dir + "/ack"),
          let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let consumed = json["consumed"] as? Int else { return 0 }
    return consumed
}

/// The indices of the chunk files published in `inbox` and not yet consumed and deleted.
private func publishedChunks(_ inbox: URL) -> [Int] {
    guard let dir = transferFolder(inbox) else { return [] }
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
        .filter { $0.hasPrefix("chunk-") }.compactMap { Int($0.dropFirst(6)) }.sorted()
}

/// Polls `condition` until it holds (false after the failsafe `seconds`).
private func waitFor(seconds: Double = failsafeSeconds, _ condition: () -> Bool) -> Bool {
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

/// A key pair for sealed transfers made with `ferry transfer keygen` in `dir`: the sender's `--to`
/// arguments and the receiver's `--key` arguments.
func transferKeys(in dir: URL) throws -> (to: [String], key: [String]) {
    let made = try FerryCLI.run(["transfer", "keygen", "receiver.key"], in: dir)
    #expect(made.status == 0, "\(made.stderr)")
    return (["--to", "receiver.key.pub"], ["--key", "receiver.key"])
}

/// Kill points never depend on speed: while one side runs, the other is stopped (SIGSTOP) or dead, so
/// the window bounds how far the transfer can get before the test kills (a free-running pair could
/// finish the transfer while a loaded machine keeps the test from looking).
@Suite struct TransferCLITests {
    let flow = ["--poll", "20ms", "--polling-only", "--quiet"]

    @Test func senderKilledAtSeveralPointsResumesToAnIdenticalFile() throws {
        let dir = try FerryCLI.temporaryDirectory("transfer-kill-sender")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        try writeRandom(dir.appendingPathComponent("model.bin"), count: 3_000_000)
        let inbox = dir.appendingPathComponent("inbox")
        let keys = try transferKeys(in: dir)
        let receiver = try FerryProcess(["transfer", "receive", "inbox", "out", "--once"] + flow + keys.key, in: dir, log: "receive.log")
        defer { receiver.resume(); receiver.kill9() }
        receiver.pause()
        let send = ["transfer", "send", "model.bin", "inbox", "--chunk", "64KiB", "--window", "4"] + flow + keys.to
        for _ in 1...3 {
            // The receiver is stopped: the sender gets at most 4 chunks past the ack. Kill it once it has
            // published 3 of them (it is writing the fourth, or waiting).
            let base = acknowledged(inbox)
            let sender = try FerryProcess(send, in: dir, log: "send.log")
            #expect(waitFor { publishedChunks(inbox).contains(base + 3) })
            sender.kill9()
            // The receiver takes what was published (the sender is dead: no more comes), then stops again.
            receiver.resume()
            #expect(waitFor { acknowledged(inbox) >= base + 3 && publishedChunks(inbox).isEmpty })
            receiver.pause()
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/out/model.bin"))
        }
        let last = try FerryProcess(send, in: dir, log: "send-last.log")
        receiver.resume()
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
        let keys = try transferKeys(in: dir)
        let sender = try FerryProcess(["transfer", "send", "model.bin", "inbox", "--chunk", "64KiB", "--window", "4"] + flow + keys.to,
                                      in: dir, log: "send.log")
        defer { sender.resume(); sender.kill9() }
        let receive = ["transfer", "receive", "inbox", "out", "--once"] + flow + keys.key
        for _ in 1...3 {
            // The sender publishes up to 4 chunks past the ack (window 4), at least 2: the killed receiver
            // acknowledges every 2 chunks (half the window) and may have died before deleting the 2 chunks
            // of its last ack, which then hold the third and fourth back. Then it stops: the receiver can
            // get no further than that.
            let base = acknowledged(inbox)
            #expect(waitFor { publishedChunks(inbox).contains(base + 2) })
            sender.pause()
            // Kill the receiver once it has taken 2 of them (it is on the third, or done).
            let receiver = try FerryProcess(receive, in: dir, log: "receive.log")
            #expect(waitFor { acknowledged(inbox) >= base + 2 })
            receiver.kill9()
            sender.resume()
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
        let keys = try transferKeys(in: dir)
        let send = ["transfer", "send", "m.safetensors", "inbox", "--mode", "container", "--quantize", "nf4",
                    "--chunk", "8KiB", "--window", "3"] + flow + keys.to
        let receive = ["transfer", "receive", "inbox", "out", "--once"] + flow + keys.key
        // Kill both sides three times, restarting them each time: the receiver stopped while the sender
        // publishes, then the sender stopped while the receiver takes what it published.
        for round in 0..<3 {
            let base = acknowledged(inbox)
            let receiver = try FerryProcess(receive, in: dir, log: "receive-\(round).log")
            receiver.pause()
            let sender = try FerryProcess(send, in: dir, log: "send-\(round).log")
            #expect(waitFor { publishedChunks(inbox).contains(base + 2) })
            sender.pause()
            receiver.resume()
            #expect(waitFor { acknowledged(inbox) >= base + 1 })
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
        let keys = try transferKeys(in: dir)
        let r = try FerryCLI.run(["transfer", "send", "a.bin", "no-such-inbox", "--quiet"] + keys.to, in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("no-such-inbox: inbox folder does not exist"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        for flags in [["--mode", "container"], ["--quantize", "nf4"]] {
            let r = try FerryCLI.run(["transfer", "send", "a.bin", "inbox", "--quiet"] + flags + keys.to, in: dir)
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
        #expect(send.stdout.contains("ferry transfer send model.safetensors in-1 in-2 --to a.pub --to b.pub"))
        #expect(send.stdout.contains("--encryption"))
        let receive = try FerryCLI.run(["transfer", "receive", "--help"])
        #expect(receive.stdout.contains("--polling-only"))
    }
}
