import Foundation
import Testing

/// Issue 18's memory goal: a sealed transfer keeps each side at 64 MiB of peak RSS or less at the
/// default 8 MiB chunks, whatever the model's size. `ferry bench transfer` runs the sender and the
/// receiver as two processes and reports each one's peak RSS from wait4 (the kernel's accounting: the
/// figure depends on the buffers, not on timing or load). 48 chunks are enough for the allocator's
/// arenas to show a creep (before the cipher thread, one chunk more in some runs).
@Suite(.tags(.spawnsProcesses)) struct TransferMemoryCLITests {
    @Test(arguments: ["sealed", "none"])
    func eachSideOfATransferStaysWithin64MiB(encryption: String) throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-transfer-mem-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let r = try FerryCLI.run(["bench", "transfer", "--size", "384MiB", "--encryption", encryption, "--dir", work])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").first { $0.contains("peak RSS sender") }, "\(r.stdout)")
        let sides = Self.mebibytes(in: String(line))
        try #require(sides.count >= 2, "\(line)")
        #expect(sides[0] <= 64 && sides[1] <= 64, "\(encryption): \(line)")
        #expect(r.stdout.contains("byte-identical to the source"), "\(r.stdout)")
    }

    /// The `N MiB` figures of a line, in order.
    private static func mebibytes(in line: String) -> [Double] {
        let words = line.replacingOccurrences(of: ",", with: " ").replacingOccurrences(of: ";", with: " ").split(separator: " ")
        return words.indices.dropLast().compactMap { i in words[i + 1] == "MiB" ? Double(words[i]) : nil }
    }
}
