import FerrySupport
import Foundation
import Testing
@testable import FerryTransfer

/// Writes the committed version-2 hostile fixtures (`Fixtures/sealed-v2`) with the real sender and the
/// fixed keys of ``SealedFixtureKeys``, then applies each case's defect. Runs only when asked:
/// `scripts/make-sealed-fixtures.sh` (`FERRY_WRITE_SEALED_FIXTURES=1`). Content keys, transfer ids and
/// HPKE encapsulations are random, so each run writes other bytes with the same keys and defects.
///
/// Where a defect changes what the final record covers, the record is made again and signed with the
/// fixture signer, so the defect named is the only one: a receiver must refuse it at the chunk (the
/// AEAD) or at the manifest, not only at the final record.
@Suite(.serialized) struct SealedFixtureGenerator {
    static let enabled = ProcessInfo.processInfo.environment["FERRY_WRITE_SEALED_FIXTURES"] == "1"
    static let chunk = 1024
    static let streamSize = 3000

    /// Sources, scratch inboxes and sender states; removed with the generator.
    let scratch: TransferSandbox

    init() throws { scratch = try TransferSandbox() }

    @Test(.enabled(if: enabled)) func writeTheFixtures() throws {
        let root = SealedFixtureCase.folder.path
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root + "/keys", withIntermediateDirectories: true)
        try SealedFixtureKeys.receiver.save(path: root + "/keys/receiver.key")
        try write(Array((SealedFixtureKeys.receiver.publicKey.base64 + "\n").utf8), root + "/keys/receiver.pub")
        try write(Array((SealedFixtureKeys.other.publicKey.base64 + "\n").utf8), root + "/keys/other.pub")
        try write(Array((SealedFixtureKeys.signer.publicKey.base64 + "\n").utf8), root + "/keys/signer.pub")
        try write(Array((SealedFixtureKeys.signer.rawRepresentation.base64 + "\n").utf8), root + "/keys/signer.key")

        var cases: [SealedFixtureCase] = []
        let me = SealedFixtureKeys.receiver.publicKey, other = SealedFixtureKeys.other.publicKey

        let valid = try stage("valid", to: [me])
        try FileManager.default.copyItem(atPath: valid.source, toPath: root + "/valid/source.bin")
        cases.append(.init(fixture: "valid", attack: "none: a signed transfer sealed to the receiver; it must be received and equal source.bin", refusal: nil))

        let wrong = try stage("wrong-key", to: [other])
        try editManifest(wrong.dir) { $0.encryption?.recipients[0].publicKey = me.base64 }
        cases.append(.init(fixture: "wrong-key", attack: "the content key is wrapped for another key, its entry relabelled with the receiver's public key",
                           refusal: "the content key wrapped for this receiver does not open"))

        let swapped = try stage("swapped-chunks", to: [me])
        let one = try read(chunkPath(swapped.dir, 1)), two = try read(chunkPath(swapped.dir, 2))
        // Each header keeps its own index and offset; the tags and sealed bodies change places.
        try write(Array(one[0..<56]) + Array(two[56..<72]) + Array(one[72..<88]) + Array(two[88...]), chunkPath(swapped.dir, 1))
        try write(Array(two[0..<56]) + Array(one[56..<72]) + Array(two[72..<88]) + Array(one[88...]), chunkPath(swapped.dir, 2))
        cases.append(.init(fixture: "swapped-chunks", attack: "chunks 1 and 2 swapped (sealed bodies and tags; each header keeps its index and offset)",
                           refusal: "chunk-000001 does not open with the transfer's content key"))

        let cut = try stage("truncated-stream", to: [me])
        try editManifest(cut.dir) {
            $0.chunkCount = 2
            $0.streamSize = Int64(2 * Self.chunk)
            $0.source.size = Int64(2 * Self.chunk)
        }
        try FileManager.default.removeItem(atPath: chunkPath(cut.dir, 3))
        cases.append(.init(fixture: "truncated-stream", attack: "the last chunk removed and the manifest relabelled to a 2-chunk stream (every chunk was sealed with n = 3, and chunk 2 without the last flag)",
                           refusal: "chunk-000001 does not open with the transfer's content key"))

        let donor = try stage("replayed-chunk-donor", to: [me], seed: 19, keep: false)
        let replay = try stage("replayed-chunk", to: [me])
        var foreign = try read(chunkPath(donor.dir, 2))
        foreign.replaceSubrange(8..<24, with: TransferID(hex: (replay.dir as NSString).lastPathComponent)!.bytes)
        try write(foreign, chunkPath(replay.dir, 2))
        cases.append(.init(fixture: "replayed-chunk", attack: "chunk 2 of another transfer to the same receiver, its header's transfer id rewritten",
                           refusal: "chunk-000002 does not open with the transfer's content key"))

        _ = try stage("recipient-not-listed", to: [other])
        cases.append(.init(fixture: "recipient-not-listed", attack: "sealed to another recipient only",
                           refusal: "not sealed to this receiver's encryption key \(me.base64)"))

        _ = try stage("downgrade-to-none", to: [], encryption: .none)
        cases.append(.init(fixture: "downgrade-to-none", attack: "a version 1 transfer (encryption none) to a receiver that did not allow it",
                           refusal: "the transfer is not encrypted (protocol version 1, encryption none)"))

        let downgraded = try stage("unencrypted-chunk", to: [me])
        let plain = try read(valid.source)
        let chunkOne = try read(chunkPath(downgraded.dir, 1))
        let header = ChunkHeader(transferID: Array(chunkOne[8..<24]), index: 1, offset: 0, payloadLength: UInt64(Self.chunk),
                                 infoLength: 0, digest: sha256Bytes(Array(plain[0..<Self.chunk])))
        var file = [UInt8](repeating: 0, count: ChunkHeader.size)
        file.withUnsafeMutableBytes { header.write(into: $0) }
        try write(file + Array(plain[0..<Self.chunk]), chunkPath(downgraded.dir, 1))
        cases.append(.init(fixture: "unencrypted-chunk", attack: "chunk 1 of a sealed transfer replaced by a version 1 (FRYCHNK1) chunk of the plaintext with its SHA-256",
                           refusal: "chunk-000001 is an unencrypted (version 1) chunk in a sealed transfer (downgrade refused)"))

        for c in cases where c.fixture != "valid" && c.fixture != "recipient-not-listed" && c.fixture != "downgrade-to-none" {
            try resign(try transferFolder(c.fixture))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(cases).write(to: URL(fileURLWithPath: root + "/cases.json"))
    }

    /// Sends `streamSize` bytes (seed 18: the valid case's `source.bin`) in 1 KiB chunks to a scratch
    /// inbox, signed by the fixture signer, and copies the transfer folder (manifest, chunks, final) to
    /// `<name>/inbox/` under the fixtures folder (when `keep`; else the scratch folder is returned).
    private func stage(_ name: String, to recipients: [TransferRecipientKey], seed: UInt64 = 18,
                       encryption: TransferEncryptionMode = .sealed, keep: Bool = true) throws -> (source: String, dir: String) {
        let inbox = try scratch.folder(name + "-inbox")
        let source = try scratch.writeBytes(name + ".bin", count: Self.streamSize, seed: seed)
        var options = testOptions(chunk: Self.chunk, window: 8)
        options.encryption = encryption
        options.senderName = "fixture"
        options.stateDirectory = try scratch.folder(name + "-state")
        // Nobody receives: the sender gives up once everything is published.
        options.expire = .seconds(2)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [inbox], options: options,
                                                     signingKey: SealedFixtureKeys.signer, recipients: recipients))
        var dir: String?
        try #require(eventually {
            dir = scratch.transferFolders(in: inbox).first
            return dir.map { FileManager.default.fileExists(atPath: $0 + "/final") } ?? false
        })
        _ = sender.wait()
        let staged = try #require(dir)
        guard keep else { return (source, staged) }
        let target = SealedFixtureCase.folder.path + "/\(name)/inbox/" + (staged as NSString).lastPathComponent
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for file in scratch.files(staged) where file == "manifest.json" || file == "final" || file.hasPrefix("chunk-") {
            try FileManager.default.copyItem(atPath: staged + "/" + file, toPath: target + "/" + file)
        }
        return (source, target)
    }

    private func chunkPath(_ dir: String, _ i: Int) -> String { dir + "/" + TransferLayout.chunkName(i) }
    private func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    private func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// The one transfer folder of a case.
    private func transferFolder(_ fixture: String) throws -> String {
        let inbox = SealedFixtureCase.folder.path + "/\(fixture)/inbox"
        return try #require(scratch.transferFolders(in: inbox).first)
    }

    private func editManifest(_ dir: String, _ change: (inout TransferManifest) -> Void) throws {
        var manifest = try #require(TransferManifest.decode(try read(dir + "/manifest.json")))
        change(&manifest)
        try write(manifest.encoded(), dir + "/manifest.json")
    }

    /// A final record for the folder as it now is (manifest bytes, the chunks' tags or digests in
    /// order), signed by the fixture signer.
    private func resign(_ dir: String) throws {
        let manifestBytes = try read(dir + "/manifest.json")
        let manifest = try #require(TransferManifest.decode(manifestBytes))
        var chain = DigestChain()
        for i in 1...manifest.chunkCount {
            let file = try read(chunkPath(dir, i))
            chain.append(Array(file[0..<8]) == ChunkHeader.sealedMagic ? Array(file[56..<72]) : Array(file[56..<88]))
        }
        var record = TransferFinalRecord(chunkCount: manifest.chunkCount, totalBytes: manifest.streamSize, streamDigest: chain.hex,
                                         manifestSHA256: sha256Hex(manifestBytes), signature: nil)
        record.signature = try SealedFixtureKeys.signer.sign(record.signedMessage(version: manifest.protocolVersion)).base64
        try write(record.encoded(), dir + "/final")
    }
}
