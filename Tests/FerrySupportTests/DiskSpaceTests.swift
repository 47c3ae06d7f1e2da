import Foundation
import SystemPackage
import Testing
@testable import FerrySupport

/// Recognising a full disk in any layer's error, measuring free space, and the kernel copy.
@Suite struct DiskSpaceTests {
    @Test func aFullDiskIsRecognisedWhereverItComesFrom() {
        #expect(DiskSpace.isFull(Errno.noSpace))
        #expect(DiskSpace.isFull(Errno.diskQuotaExceeded))
        #expect(!DiskSpace.isFull(Errno.permissionDenied))
        #expect(DiskSpace.isFull(SupportError.io(path: "/a/b", operation: "write", errno: .noSpace)))
        #expect(!DiskSpace.isFull(SupportError.io(path: "/a/b", operation: "write", errno: .ioError)))
        #expect(DiskSpace.isFull(NSError(domain: NSPOSIXErrorDomain, code: Int(ENOSPC))))
        #expect(DiskSpace.isFull(CocoaError(.fileWriteOutOfSpace)))
        #expect(DiskSpace.isFull(text: "OSError: [Errno 28] No space left on device: 'out.safetensors'"))
        #expect(DiskSpace.isFull(text: "write failed: Disk quota exceeded"))
        #expect(!DiskSpace.isFull(text: "the executor exited with status 3"))
        #expect(!DiskSpace.isFull(text: "chunk 4 out of order"))
        #expect(DiskSpace.folder(of: SupportError.io(path: "/a/b/c.json", operation: "write", errno: .noSpace)) == "/a/b")
    }

    @Test func freeSpaceIsMeasuredAtTheNearestExistingFolder() throws {
        let free = try #require(DiskSpace.available(at: NSTemporaryDirectory()))
        #expect(free > 0)
        #expect(DiskSpace.available(at: NSTemporaryDirectory() + "/not/there/yet") != nil)
        #expect(throws: DiskSpaceShortage.self) { try DiskSpaceShortage.check(folder: NSTemporaryDirectory(), needed: free + (1 << 50)) }
        try DiskSpaceShortage.check(folder: NSTemporaryDirectory(), needed: 1)
        let text = DiskSpaceShortage(folder: "/data/jobs", needed: 3 << 30, available: 1 << 20).description
        #expect(text.hasPrefix("/data/jobs is full: 1.00 MiB free, about 3.00 GiB needed"), "\(text)")
    }

    @Test func copyIsExactAndLeavesNoTemporaryFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-kcopy-\(UUID().uuidString)").path
        try FileSystem.makeDirectory(dir)
        defer { FileSystem.remove(dir) }
        var state: UInt64 = 7
        let bytes = (0..<(3 << 20) + 17).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        try FileSystem.write(bytes, to: FileSystem.join(dir, "a"))
        try FileSystem.write(Array("old".utf8), to: FileSystem.join(dir, "b"))
        try FileSystem.copy(FileSystem.join(dir, "a"), to: FileSystem.join(dir, "b"))
        #expect(try FileSystem.read(FileSystem.join(dir, "b"), limit: 8 << 20) == bytes)
        #expect(FileSystem.list(dir) == ["a", "b"])
        #expect(throws: SupportError.self) { try FileSystem.copy(FileSystem.join(dir, "missing"), to: FileSystem.join(dir, "c")) }
        #expect(FileSystem.list(dir) == ["a", "b"])
    }
}
