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

/// Lowercase hex encoding.
enum Hex {
    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }
}
