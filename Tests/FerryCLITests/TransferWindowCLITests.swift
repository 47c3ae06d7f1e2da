import Foundation
import Testing

/// `ferry transfer send` without `--window` or `--window-bytes` uses the default byte window (128 MiB,
/// as chunks of the chosen size); either option replaces it. The window is recorded in the manifest.
@Suite struct TransferWindowCLITests {
    /// The `window` a send with `options` (and 1 MiB chunks) records in its manifest.
    private func recordedWindow(_ options: [String]) throws -> Int? {
        let dir = try FerryCLI.temporaryDirectory("window")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(repeating: 7, count: 2 << 20).write(to: dir.appendingPathComponent("data.bin"))
        for sub in ["inbox", "out"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let keys = try transferKeys(in: dir)
        let sender = Process()
        sender.executableURL = FerryCLI.binary
        sender.arguments = ["transfer", "send", "data.bin", "inbox", "--chunk", "1MiB", "--quiet"] + options + keys.to
        sender.currentDirectoryURL = dir
        sender.standardOutput = FileHandle.nullDevice
        sender.standardError = FileHandle.nullDevice
        try sender.run()
        let received = try FerryCLI.run(["transfer", "receive", "inbox", "out", "--once", "--quiet"] + keys.key, in: dir)
        #expect(received.status == 0, "\(received.stderr)")
        #expect(FerryCLI.waitForExit(sender), "the sender ends once the receiver has everything")
        #expect(sender.terminationStatus == 0)
        let inbox = dir.appendingPathComponent("inbox").path
        guard let id = try FileManager.default.contentsOfDirectory(atPath: inbox).first(where: { $0.count == 32 }),
              let data = FileManager.default.contents(atPath: inbox + "/" + id + "/manifest.json"),
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return json["window"] as? Int
    }

    @Test func theDefaultIsAByteWindowOf128MiB() throws {
        #expect(try recordedWindow([]) == 128)
    }

    @Test func windowOrWindowBytesReplaceTheDefault() throws {
        #expect(try recordedWindow(["--window", "3"]) == 3)
        #expect(try recordedWindow(["--window-bytes", "4MiB"]) == 4)
    }
}
