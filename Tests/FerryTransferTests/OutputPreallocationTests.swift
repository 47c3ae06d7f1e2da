import Foundation
import FerrySupport
import Testing
@testable import FerryTransfer

/// The receiver reserves its output's blocks up front (fallocate, keeping the size), so its writes skip
/// the file system's per-page delayed allocation; a resumed receiver reserves them again after cutting the
/// partial output back, and the published file holds no block past its end.
@Suite struct OutputPreallocationTests {
    private func allocatedBytes(_ path: String) throws -> (size: Int64, allocated: Int64) {
        var st = stat()
        try #require(stat(path, &st) == 0, "stat \(path)")
        return (Int64(st.st_size), Int64(st.st_blocks) * 512)
    }

    /// Why the receiver will not reserve blocks in this folder, or nil when it will.
    private func preallocationUnsupported(in dir: String) -> String? {
        guard let free = DiskSpace.available(at: dir), free >= (1 << 30) + (4 << 20) else {
            return "less than 1 GiB free, which the receiver keeps to spare"
        }
        let probe = dir + "/.probe"
        let fd = open(probe, O_RDWR | O_CREAT, 0o644)
        defer { if fd >= 0 { close(fd) }; unlink(probe) }
        guard fd >= 0 else { return "cannot create \(probe)" }
        return HostDurability.preallocate(fd, offset: 0, length: 1 << 20) ? nil : "fallocate: \(String(cString: strerror(errno)))"
    }

    @Test func theWholeOutputIsReservedAndNothingIsLeftPastItsEnd() throws {
        let box = try TransferSandbox()
        if let reason = preallocationUnsupported(in: box.out) {
            print("OutputPreallocationTests skipped: the receiver does not reserve blocks in \(box.out): \(reason)")
            return
        }
        let source = try box.writeBytes("reserved.bin", count: 1_000_000, seed: 5)
        var options = testOptions(chunk: 100_000, window: 2)
        let dir = try abandonedSend(box, source: source, options: options)
        let partial = box.out + "/" + TransferLayout.partialName((dir as NSString).lastPathComponent)
        options.expire = neverExpires
        do {
            let first = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
            _ = try first.processPending()
        }
        let halfway = try allocatedBytes(partial)
        #expect(halfway.size == 200_000)
        #expect(halfway.allocated >= 1_000_000, "only \(halfway.allocated) B reserved for a 1 000 000 B stream")

        // A restarted receiver cuts the partial back to its ack (which frees blocks past that point)
        // and reserves the rest again.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partial))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0xEE, count: 5000))
        try handle.close()
        let second = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: options, decryptionKey: testRecipient)
        _ = try second.processPending()
        let resumed = try allocatedBytes(partial)
        #expect(resumed.size == 200_000)
        #expect(resumed.allocated >= 1_000_000, "only \(resumed.allocated) B reserved again after the restart")
        let sender = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: options, recipients: [testRecipient.publicKey]))
        let done = try #require(try receiveOne(second).completed.first)
        _ = try #require(sender.wait()).get()
        #expect(box.data(done.outputPath) == box.data(source))
        let published = try allocatedBytes(done.outputPath)
        #expect(published.size == 1_000_000)
        #expect(published.allocated < 1_000_000 + (64 << 10), "\(published.allocated) B allocated for a 1 000 000 B file")
    }
}
