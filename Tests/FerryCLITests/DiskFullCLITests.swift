import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Disk full on the receiving side, injected with a file-size limit (`ulimit -f`, RLIMIT_FSIZE, with
/// SIGXFSZ ignored): every write past the limit fails as on a full disk (EFBIG instead of ENOSPC).
/// The receiver stops with an error, publishes nothing, keeps its ack and partial output, and a
/// receiver started once space has returned resumes and publishes the exact file.
@Suite struct DiskFullCLITests {
    /// Runs `ferry ARGS` through bash with a file-size limit of `limitKiB`.
    private func runLimited(_ arguments: [String], limitKiB: Int, in dir: URL) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "trap '' XFSZ; ulimit -f \(limitKiB); exec \"$0\" \"$@\"", FerryCLI.binary.path] + arguments
        process.currentDirectoryURL = dir
        let errLog = dir.appendingPathComponent("limited-stderr.log")
        _ = FileManager.default.createFile(atPath: errLog.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errLog)
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: errLog, encoding: .utf8)) ?? "")
    }

    @Test func receiverOutOfSpaceFailsCleanlyAndResumesWhenSpaceReturns() throws {
        let dir = try FerryCLI.temporaryDirectory("disk-full")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("inbox"), withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        var state: UInt64 = 0x5eed
        let source = (0..<(1 << 20)).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        try Data(source).write(to: dir.appendingPathComponent("model.bin"))
        let keys = try transferKeys(in: dir)
        let flow = ["--poll", "20ms", "--polling-only", "--quiet"]

        // The sender stages all 16 chunks (window 32) and waits for the receiver.
        let sender = Process()
        sender.executableURL = FerryCLI.binary
        sender.arguments = ["transfer", "send", "model.bin", "inbox", "--chunk", "64KiB", "--window", "32"] + flow + keys.to
        sender.currentDirectoryURL = dir
        sender.standardOutput = FileHandle.nullDevice
        sender.standardError = FileHandle.nullDevice
        try sender.run()
        defer { if sender.isRunning { kill(sender.processIdentifier, SIGKILL); sender.waitUntilExit() } }

        // Room for 256 KiB only: the receiver fails on the fifth chunk and says why.
        let full = try runLimited(["transfer", "receive", "inbox", "out", "--once"] + flow + keys.key, limitKiB: 256, in: dir)
        #expect(full.status == 1, "\(full.stderr)")
        #expect(full.stderr.contains("write the partial output"), "\(full.stderr)")
        let out = dir.appendingPathComponent("out").path
        // Nothing published under the final name; only the hidden partial stays for the resume.
        let left = try fm.contentsOfDirectory(atPath: out)
        #expect(!left.contains("model.bin"), "\(left)")
        #expect(left.allSatisfy { $0.hasPrefix(".ferry-partial-") }, "\(left)")
        let inbox = dir.appendingPathComponent("inbox").path
        let transfer = try #require(try fm.contentsOfDirectory(atPath: inbox).first { $0.count == 32 })
        #expect(!fm.fileExists(atPath: inbox + "/" + transfer + "/failed"), "a full disk must not refuse the transfer")
        let ack = try #require(fm.contents(atPath: inbox + "/" + transfer + "/ack"))
        let consumed = try #require((try JSONSerialization.jsonObject(with: ack) as? [String: Any])?["consumed"] as? Int)
        #expect(consumed >= 1 && consumed < 16, "acknowledged \(consumed) of 16 chunks")

        // Space is back: a new receiver continues from the ack and publishes the exact file.
        let resumed = try FerryCLI.run(["transfer", "receive", "inbox", "out", "--once"] + flow + keys.key, in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(fm.contents(atPath: out + "/model.bin") == Data(source))
        #expect(try fm.contentsOfDirectory(atPath: out).sorted() == [".ferry-received", "model.bin"], "only the output and the ledger of received transfers")
        let deadline = Date().addingTimeInterval(300)  // a failsafe: the sender polls every 20 ms
        while sender.isRunning && Date() < deadline { usleep(10_000) }
        #expect(!sender.isRunning && sender.terminationStatus == 0, "the sender learns of the completion")
    }
}
