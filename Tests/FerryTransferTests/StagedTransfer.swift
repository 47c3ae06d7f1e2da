import Foundation
import Testing
@testable import FerryTransfer

/// A transfer fully staged in an inbox (all chunks and the final record) by a sender still waiting for
/// its receiver: the hostile tests change its files, then check the receiver refuses it.
struct StagedTransfer {
    let box: TransferSandbox
    let source: String
    let dir: String
    let sender: BackgroundSender
    func chunk(_ i: Int) -> String { dir + "/" + TransferLayout.chunkName(i) }

    /// Sends 50 000 bytes in chunks of 10 000 (window 8) and waits until the final record is there.
    static func stage(_ box: TransferSandbox, name: String, seed: UInt64, inbox: String?, options: TransferOptions,
                      signingKey: TransferSigningKey? = nil, recipients: [TransferRecipientKey] = []) throws -> StagedTransfer {
        let source = try box.writeBytes(name, count: 50_000, seed: seed)
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [inbox ?? box.inbox], options: options,
                                                     signingKey: signingKey, recipients: recipients))
        var dir: String?
        let ready = eventually {
            dir = box.transferFolders(in: inbox).first
            return dir.map { FileManager.default.fileExists(atPath: $0 + "/final") } ?? false
        }
        try #require(ready)
        return StagedTransfer(box: box, source: source, dir: try #require(dir), sender: sender)
    }

    /// Runs a receiver and checks the transfer is refused with `reason`: nothing published, a `failed`
    /// record, the sender told, and later passes leave it alone.
    func expectRefused(options: TransferOptions, trusting keys: [TransferPublicKey] = [], key: TransferDecryptionKey? = nil,
                       reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let receiver = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options,
                                        trustedKeys: keys, decryptionKey: key)
        let pass = try receiveOne(receiver)
        #expect(pass.completed.isEmpty, sourceLocation: sourceLocation)
        let failure = try #require(pass.failed.first, sourceLocation: sourceLocation)
        #expect(failure.reason.contains(reason), "\(failure.reason)", sourceLocation: sourceLocation)
        #expect(box.files(box.out).isEmpty, "published or left: \(box.files(box.out))", sourceLocation: sourceLocation)
        #expect(FileManager.default.fileExists(atPath: dir + "/failed"), sourceLocation: sourceLocation)
        let outcome = try #require(sender.wait(), sourceLocation: sourceLocation)
        guard case .failure(let error) = outcome, case TransferError.refused = error else {
            Issue.record("sender did not report the refusal: \(outcome)", sourceLocation: sourceLocation)
            return
        }
        #expect(try receiver.poll().failed.isEmpty, sourceLocation: sourceLocation)
    }
}

/// Rewrites the file at `path` with `change` applied to its bytes.
func modifyFile(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    change(&bytes)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}
