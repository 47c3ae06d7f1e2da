import Foundation
import Testing

/// `ferry transfer send --to` / `receive --key`: sealed by default, keys from key files or site
/// workspaces and cards, `--encryption none` only when both sides say so, and said loudly.
@Suite struct SealedTransferCLITests {
    let flow = ["--poll", "20ms", "--polling-only", "--quiet"]

    private func folder(_ name: String) throws -> URL {
        let dir = try FerryCLI.temporaryDirectory(name)
        for sub in ["inbox", "out"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: dir.appendingPathComponent("a.bin"))
        return dir
    }

    /// Sends a.bin with `send` and receives it once with `receive`; returns both results.
    private func transfer(in dir: URL, send: [String], receive: [String]) throws -> (send: FerryCLI.Result, receive: FerryCLI.Result) {
        let sender = try FerryProcess(["transfer", "send", "a.bin", "inbox", "--chunk", "64KiB"] + flow + send, in: dir, log: "send.log")
        let received = try FerryCLI.run(["transfer", "receive", "inbox", "out", "--once"] + flow + receive, in: dir)
        let status = sender.wait()
        return (FerryCLI.Result(status: status, stdout: sender.output, stderr: ""), received)
    }

    @Test func sendNeedsARecipientAndReceiveNeedsAKey() throws {
        let dir = try folder("sealed-usage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let send = try FerryCLI.run(["transfer", "send", "a.bin", "inbox", "--quiet"], in: dir)
        #expect(send.status == 2)
        #expect(send.stderr.contains("--to"), "\(send.stderr)")
        let receive = try FerryCLI.run(["transfer", "receive", "inbox", "out", "--once", "--quiet"], in: dir)
        #expect(receive.status == 2)
        #expect(receive.stderr.contains("--key"), "\(receive.stderr)")
        let bad = try FerryCLI.run(["transfer", "send", "a.bin", "inbox", "--to", "not-a-key"], in: dir)
        #expect(bad.status == 2)
    }

    @Test func keygenKeysSealAndOpen() throws {
        let dir = try folder("sealed-keygen")
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = try transferKeys(in: dir)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.path + "/receiver.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let (send, receive) = try transfer(in: dir, send: keys.to, receive: keys.key)
        #expect(receive.status == 0, "\(receive.stderr)")
        #expect(receive.stdout.contains("(sealed)"), "\(receive.stdout)")
        #expect(send.status == 0, "\(send.stdout)")
        #expect(FileManager.default.contents(atPath: dir.path + "/out/a.bin") == FileManager.default.contents(atPath: dir.path + "/a.bin"))
    }

    @Test func aSiteCardAndItsWorkspaceSealAndOpen() throws {
        let dir = try folder("sealed-card")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ws = dir.path + "/site"
        try FileManager.default.createDirectory(atPath: dir.path + "/share", withIntermediateDirectories: true)
        let made = try FerryCLI.run(["site", "init", ws, "--name", "site-1", "--role", "client", "--share", dir.path + "/share"])
        #expect(made.status == 0, "\(made.stderr)")
        let card = try String(contentsOfFile: ws + "/site-card.yaml", encoding: .utf8)
        #expect(card.contains("encryption_key:"))
        let (send, receive) = try transfer(in: dir, send: ["--to", ws + "/site-card.yaml"], receive: ["--key", ws])
        #expect(receive.status == 0, "\(receive.stderr)")
        #expect(send.status == 0)
        // Another site's workspace cannot open what was sealed to site-1.
        let other = dir.path + "/other"
        #expect(try FerryCLI.run(["site", "init", other, "--name", "site-2", "--role", "client", "--share", dir.path + "/share"]).status == 0)
        try FileManager.default.removeItem(atPath: dir.path + "/out/a.bin")
        let (_, refused) = try transfer(in: dir, send: ["--to", ws], receive: ["--key", other])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not sealed to this receiver"), "\(refused.stderr)")
    }

    @Test func encryptionNoneIsNamedAndRefusedUnlessTheReceiverAllowsIt() throws {
        let dir = try folder("sealed-none")
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = try transferKeys(in: dir)
        // A downgrade the receiver did not allow: refused, nothing published.
        let (send, refused) = try transfer(in: dir, send: ["--encryption", "none"], receive: keys.key)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not encrypted"), "\(refused.stderr)")
        #expect(send.status == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/out/a.bin"))
        // Both sides allow it: it goes through, and both say it was unencrypted.
        let (sent, received) = try transfer(in: dir, send: ["--encryption", "none"], receive: ["--encryption", "none"])
        #expect(received.status == 0, "\(received.stderr)")
        #expect(received.stdout.contains("UNENCRYPTED"))
        #expect(received.stderr.contains("NOT encrypted"))
        #expect(sent.status == 0)
        #expect(sent.stdout.contains("UNENCRYPTED"), "\(sent.stdout)")
    }
}
