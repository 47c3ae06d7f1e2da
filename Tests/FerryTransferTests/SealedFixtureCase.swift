import Crypto
import Foundation
@testable import FerryTransfer

/// One committed version-2 hostile fixture (`Fixtures/sealed-v2/cases.json`): an inbox holding one
/// transfer, and what a receiver with the fixture keys must do with it. Written by
/// `SealedFixtureGenerator` (`scripts/make-sealed-fixtures.sh`), read by `SealedFixtureTests`.
struct SealedFixtureCase: Codable, Sendable, CustomStringConvertible {
    /// The folder under `Fixtures/sealed-v2` (its `inbox/` holds the transfer).
    var fixture: String
    /// What the fixture attacks, in words.
    var attack: String
    /// A fragment of the receiver's refusal reason; nil for the one case that must be received.
    var refusal: String?

    var description: String { fixture }

    /// `Fixtures/sealed-v2` beside this file.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sealed-v2")

    static func load() -> [SealedFixtureCase] {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("cases.json")) else { return [] }
        return (try? JSONDecoder().decode([SealedFixtureCase].self, from: data)) ?? []
    }
}

/// The fixed keys of the fixtures: derived from fixed text, so regenerating the fixtures keeps them,
/// and committed (`keys/`) so that another implementation can open the valid case.
enum SealedFixtureKeys {
    private static func seed(_ text: String) -> [UInt8] { sha256Bytes(Array(text.utf8)) }
    /// The receiver the fixtures are sealed to.
    static let receiver = try! TransferDecryptionKey(rawRepresentation: seed("ferry sealed-v2 fixture: receiver"))
    /// Another recipient: the receiver is not it.
    static let other = try! TransferDecryptionKey(rawRepresentation: seed("ferry sealed-v2 fixture: other recipient"))
    /// The sender's Ed25519 key; the receiver trusts its public half.
    static let signer = try! TransferSigningKey(rawRepresentation: seed("ferry sealed-v2 fixture: signer"))
}

/// SHA-256 of `bytes`.
func sha256Bytes(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
