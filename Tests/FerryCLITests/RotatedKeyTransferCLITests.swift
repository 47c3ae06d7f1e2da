import Foundation
import Testing

/// A transfer sealed to a site's encryption key while `ferry site rotate-key` replaces it (the sender
/// still had the old card) opens with `keys/encryption.key.previous`, and the receiver says so.
@Suite struct RotatedKeyTransferCLITests {
    let flow = ["--poll", "20ms", "--polling-only", "--quiet"]

    private static func write(_ url: URL, count: Int) throws {
        try Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }).write(to: url)
    }

    @Test func aTransferSealedToThePreviousKeyStillOpensAfterARotation() throws {
        let dir = try FerryCLI.temporaryDirectory("rotated-key-transfer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.path
        let fed = try SiteFederation.build(root: root, clients: ["site-1"], share: { _ in root + "/share" }) { _, args in
            let r = try FerryCLI.run(args)
            return (r.status, r.stdout + r.stderr)
        }
        let workspace = fed.workspace("site-1")
        let oldKey = try String(contentsOfFile: workspace + "/keys/encryption.pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let rotate = try FerryCLI.run(["site", "rotate-key", workspace])
        #expect(rotate.status == 0, "\(rotate.stderr)")
        let newKey = try String(contentsOfFile: workspace + "/keys/encryption.pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(newKey != oldKey)
        #expect(FileManager.default.fileExists(atPath: workspace + "/keys/encryption.key.previous"))

        for name in ["inbox", "out"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        try Self.write(dir.appendingPathComponent("model.bin"), count: 300_000)
        // Sealed to the key the sender knew before the rotation.
        let sender = try FerryProcess(["transfer", "send", "model.bin", "inbox", "--chunk", "64KiB", "--to", oldKey] + flow,
                                      in: dir, log: "send.log")
        defer { sender.kill9() }
        let receive = try FerryCLI.run(["transfer", "receive", "inbox", "out", "--once", "--key", workspace] + flow, in: dir)
        #expect(receive.status == 0, "\(receive.stdout)\(receive.stderr)")
        #expect(receive.stdout.contains("opened with the previous encryption key"), "\(receive.stdout)")
        #expect(sender.wait() == 0, "\(sender.output)")
        #expect(FileManager.default.contents(atPath: dir.path + "/out/model.bin")
                == FileManager.default.contents(atPath: dir.path + "/model.bin"))

        // A transfer sealed to the new key opens with it, and the report does not mention the old one.
        try Self.write(dir.appendingPathComponent("second.bin"), count: 100_000)
        let current = try FerryProcess(["transfer", "send", "second.bin", "inbox", "--to", newKey] + flow, in: dir, log: "send2.log")
        defer { current.kill9() }
        let second = try FerryCLI.run(["transfer", "receive", "inbox", "out", "--once", "--key", workspace] + flow, in: dir)
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("second.bin") && !second.stdout.contains("previous"), "\(second.stdout)")
        #expect(current.wait() == 0, "\(current.output)")

        // Once the operator deletes the previous key, a transfer sealed to it is refused, naming both keys.
        try FileManager.default.removeItem(atPath: workspace + "/keys/encryption.key.previous")
        try Self.write(dir.appendingPathComponent("third.bin"), count: 100_000)
        let late = try FerryProcess(["transfer", "send", "third.bin", "inbox", "--to", oldKey] + flow, in: dir, log: "send3.log")
        defer { late.kill9() }
        let refused = try FerryCLI.run(["transfer", "receive", "inbox", "out", "--once", "--key", workspace] + flow, in: dir)
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("not sealed to this receiver's encryption key \(newKey)"), "\(refused.stderr)")
        #expect(late.wait() == 1, "\(late.output)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/out/third.bin"))
    }
}
