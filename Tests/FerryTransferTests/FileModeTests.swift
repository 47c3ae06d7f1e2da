import Foundation
import Testing
import FerryTransfer

private func temporaryFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-transfer-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Test func fileModeDeliversAByteIdenticalCopyWithBoundedChunks() throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let inbox = root + "/inbox", out = root + "/out", source = root + "/model.bin"
    try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    var bytes = [UInt8](repeating: 0, count: 300_000)
    for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
    try Data(bytes).write(to: URL(fileURLWithPath: source))

    var options = TransferOptions()
    options.chunkSize = 64 << 10
    options.window = 2
    options.pollInterval = .milliseconds(10)
    let receiver = TransferReceiver(inbox: inbox, outputDirectory: out, options: options)
    let received = Thread {
        _ = try? receiver.run { pass in !pass.completed.isEmpty }
    }
    received.start()
    let summary = try TransferSender(source: source, inboxes: [inbox], options: options).run()
    #expect(summary.chunkCount == 5)
    var copy: Data?
    for _ in 0..<500 where copy == nil {
        copy = try? Data(contentsOf: URL(fileURLWithPath: out + "/model.bin"))
        if copy == nil { usleep(10_000) }
    }
    #expect(copy == Data(bytes))
}
