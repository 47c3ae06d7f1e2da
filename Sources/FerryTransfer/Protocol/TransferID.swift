import FerrySupport
/// A transfer identifier: 128 random bits written as 32 lowercase hex characters.
public struct TransferID: Hashable, Sendable, CustomStringConvertible {
    /// The 16 raw bytes.
    public let bytes: [UInt8]

    /// A fresh random identifier.
    public static func random() -> TransferID {
        var g = SystemRandomNumberGenerator()
        return TransferID(bytes: (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses 32 hex characters; nil for anything else.
    public init?(hex: String) {
        guard hex.utf8.count == 32, let raw = Hex.decode(hex) else { return nil }
        bytes = raw
    }

    /// The 32-character hex form (the transfer's folder name).
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}
