import FerrySupport

/// File names inside a transfer folder `INBOX/<transfer-id>/`.
enum TransferLayout {
    static let manifest = "manifest.json"
    static let final = "final"
    static let ack = "ack"
    static let failed = "failed"
    static let chunkPrefix = "chunk-"

    /// `chunk-000001` … (six digits at least; more when the index needs them).
    static func chunkName(_ index: Int) -> String {
        var digits = String(index)
        while digits.count < 6 { digits = "0" + digits }
        return chunkPrefix + digits
    }

    /// The index of a chunk file name, nil for other names.
    static func chunkIndex(_ name: String) -> Int? {
        guard name.hasPrefix(chunkPrefix) else { return nil }
        let digits = name.dropFirst(chunkPrefix.count)
        guard digits.count >= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(digits), v >= 1 else { return nil }
        return v
    }


    /// A consumed chunk kept for the sender to overwrite with a later chunk (section 4a of
    /// docs/transfer-protocol.md): chunk k becomes `.spare-<k mod spareSlots(window)>`.
    static func spareName(forChunk index: Int, window: Int) -> String { ".spare-\(index % spareSlots(window: window))" }

    /// How many spare names a transfer folder uses: half the window (in chunks), at least 1.
    static func spareSlots(window: Int) -> Int { max(1, window / 2) }

    /// Name of the receiver's partial stream file in the output folder.
    static func partialName(_ id: String) -> String { ".ferry-partial-\(id)" }
}
