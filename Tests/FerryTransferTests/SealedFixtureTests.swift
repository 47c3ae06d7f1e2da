import FerrySupport
import Foundation
import Testing
@testable import FerryTransfer

/// Runs a receiver with the fixture keys (`Fixtures/sealed-v2/keys`) on each committed version-2 fixture:
/// the valid one is received byte for byte, every hostile one is refused with its reason, nothing is
/// published, and the `failed` record is written for the sender.
@Suite struct SealedFixtureTests {
    static let cases = SealedFixtureCase.load()

    /// A copy of the fixture's inbox in a fresh sandbox, and a receiver holding the committed keys.
    private func receiver(for fixture: SealedFixtureCase) throws -> (TransferSandbox, TransferReceiver) {
        let box = try TransferSandbox()
        let source = SealedFixtureCase.folder.appendingPathComponent(fixture.fixture + "/inbox").path
        for entry in try FileManager.default.contentsOfDirectory(atPath: source) {
            try FileManager.default.copyItem(atPath: source + "/" + entry, toPath: box.inbox + "/" + entry)
        }
        let keys = SealedFixtureCase.folder.appendingPathComponent("keys").path
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: testOptions(),
                                        trustedKeys: [try TransferPublicKey.load(path: keys + "/signer.pub")],
                                        decryptionKey: try TransferDecryptionKey.load(path: keys + "/receiver.key"))
        return (box, receiver)
    }

    @Test func theFixturesAreCommittedWithTheirKeys() throws {
        #expect(Self.cases.count == 8, "Fixtures/sealed-v2/cases.json is missing or short: run scripts/make-sealed-fixtures.sh")
        let folders = try FileManager.default.contentsOfDirectory(atPath: SealedFixtureCase.folder.path)
            .filter { $0 != "keys" && $0 != "cases.json" }
        #expect(Set(folders) == Set(Self.cases.map(\.fixture)))
        // The committed keys are the generator's fixed keys.
        let keys = SealedFixtureCase.folder.appendingPathComponent("keys").path
        #expect(try TransferDecryptionKey.load(path: keys + "/receiver.key").rawRepresentation == SealedFixtureKeys.receiver.rawRepresentation)
        #expect(try TransferPublicKey.load(path: keys + "/signer.pub") == SealedFixtureKeys.signer.publicKey)
        for fixture in Self.cases {
            let inbox = SealedFixtureCase.folder.appendingPathComponent(fixture.fixture + "/inbox").path
            let transfers = try FileManager.default.contentsOfDirectory(atPath: inbox).filter { TransferID(hex: $0) != nil }
            #expect(transfers.count == 1, "\(fixture.fixture)")
        }
    }

    @Test(arguments: cases.filter { $0.refusal != nil })
    func isRefused(_ fixture: SealedFixtureCase) throws {
        let reason = try #require(fixture.refusal)
        let (box, receiver) = try self.receiver(for: fixture)
        let pass = try receiveOne(receiver)
        #expect(pass.completed.isEmpty)
        let failure = try #require(pass.failed.first, "\(fixture.fixture) was not refused")
        #expect(failure.reason.contains(reason), "\(fixture.fixture): \(failure.reason)")
        #expect(box.files(box.out).isEmpty, "published or left: \(box.files(box.out))")
        let dir = try #require(box.transferFolders().first)
        let record = try #require(TransferFailureRecord.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/failed")))))
        #expect(record.reason == failure.reason)
        #expect(try receiver.poll().failed.isEmpty, "refused again on the next pass")
    }

    @Test func theValidFixtureIsReceivedExactly() throws {
        let fixture = try #require(Self.cases.first { $0.refusal == nil })
        let (box, receiver) = try self.receiver(for: fixture)
        let done = try #require(try receiveOne(receiver).completed.first)
        #expect(done.sealed && done.signed && !done.openedWithPreviousKey)
        let expected = try Data(contentsOf: SealedFixtureCase.folder.appendingPathComponent(fixture.fixture + "/source.bin"))
        #expect(box.data(done.outputPath) == expected)
    }
}
