import Foundation
import Testing
import FerrySupport

@Suite struct AtomicFileTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    @Test func writeReplacesWholeFile() throws {
        let path = dir.appendingPathComponent("a.txt").path
        try AtomicFile.write(string: "first", to: path)
        try AtomicFile.write(string: "second", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["a.txt"])
    }

    @Test func abandonedWriterLeavesNothing() throws {
        let path = dir.appendingPathComponent("b.bin").path
        do {
            let writer = try AtomicFileWriter(destination: path)
            try writer.write([1, 2, 3] as [UInt8])
            #expect(FileManager.default.fileExists(atPath: writer.temporaryPath.string))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func pipeCopiesThroughSmallBuffer() throws {
        let src = dir.appendingPathComponent("src.bin").path
        let bytes = (0..<100_003).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try AtomicFile.write(bytes, to: src)
        let dst = dir.appendingPathComponent("dst.bin").path
        let moved = try FileByteSource(path: src).pipe(into: AtomicFileSink(path: dst), bufferSize: 4096)
        #expect(moved == 100_003)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dst)) == Data(bytes))
    }

    @Test func cancelledSinkPublishesNothing() throws {
        let dst = dir.appendingPathComponent("never.bin").path
        let sink = try AtomicFileSink(path: dst)
        try [UInt8](repeating: 7, count: 10).withUnsafeBytes { try sink.write($0) }
        sink.cancel()
        #expect(!FileManager.default.fileExists(atPath: dst))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
