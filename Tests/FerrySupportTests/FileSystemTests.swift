import Foundation
import Testing
@testable import FerrySupport

/// The one file layer: lookups that treat a vanished file as absent, folders made and removed whole,
/// atomic copies and moves, joins.
@Suite struct FileSystemTests {
    let dir: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-fs-\(UUID().uuidString)").path
        try FileSystem.makeDirectory(dir)
    }

    @Test func makeDirectoryCreatesParentsAndAcceptsAnExistingFolder() throws {
        let deep = FileSystem.join(dir, "a", "b", "c")
        try FileSystem.makeDirectory(deep)
        try FileSystem.makeDirectory(deep)
        #expect(FileSystem.isDirectory(deep))
        try FileSystem.write(Array("x".utf8), to: FileSystem.join(dir, "file"))
        #expect(throws: SupportError.self) { try FileSystem.makeDirectory(FileSystem.join(dir, "file")) }
        #expect(throws: SupportError.self) { try FileSystem.makeDirectory(FileSystem.join(dir, "file", "below")) }
    }

    @Test func removeTakesWholeTreesAndNeverFollowsSymlinks() throws {
        let outside = FileSystem.join(dir, "outside")
        try FileSystem.makeDirectory(outside)
        try FileSystem.write(Array("keep".utf8), to: FileSystem.join(outside, "kept"))
        let tree = FileSystem.join(dir, "tree")
        try FileSystem.makeDirectory(FileSystem.join(tree, "sub"))
        try FileSystem.write(Array("x".utf8), to: FileSystem.join(tree, "sub", "f"))
        #expect(symlink(outside, FileSystem.join(tree, "link")) == 0)
        FileSystem.remove(tree)
        #expect(!FileSystem.exists(tree))
        #expect(FileSystem.list(outside) == ["kept"])
        FileSystem.remove(tree)  // absent: fine
    }

    @Test func readIfPresentTellsAbsentFromUnreadableAndBoundsSize() throws {
        #expect(try FileSystem.readIfPresent(FileSystem.join(dir, "none")) == nil)
        let path = FileSystem.join(dir, "data")
        try FileSystem.write([UInt8](repeating: 7, count: 100), to: path)
        #expect(try FileSystem.readIfPresent(path) == [UInt8](repeating: 7, count: 100))
        #expect(throws: SupportError.tooLarge(path: path, limit: 10)) { try FileSystem.readIfPresent(path, limit: 10) }
        #expect(throws: SupportError.self) { try FileSystem.read(FileSystem.join(dir, "none")) }
        // A folder is there but is not a readable file: an error, not "absent".
        #expect(throws: SupportError.self) { try FileSystem.readIfPresent(dir) }
    }

    @Test func listIsSortedAndEmptyForAMissingFolder() throws {
        for name in ["b", "a", "c"] { try FileSystem.write([UInt8](), to: FileSystem.join(dir, name)) }
        #expect(FileSystem.list(dir) == ["a", "b", "c"])
        #expect(FileSystem.list(FileSystem.join(dir, "missing")).isEmpty)
    }

    @Test func moveReplacesAndCopyIsAtomic() throws {
        let a = FileSystem.join(dir, "a"), b = FileSystem.join(dir, "b"), c = FileSystem.join(dir, "c")
        try FileSystem.write(Array("one".utf8), to: a)
        try FileSystem.write(Array("two".utf8), to: b)
        try FileSystem.move(a, to: b)
        #expect(!FileSystem.exists(a))
        #expect(try FileSystem.read(b) == Array("one".utf8))
        try FileSystem.copy(b, to: c)
        #expect(try FileSystem.read(c) == Array("one".utf8))
        #expect(FileSystem.list(dir) == ["b", "c"])  // no temporary file left
        #expect(throws: SupportError.self) { try FileSystem.copy(FileSystem.join(dir, "none"), to: c) }
        #expect(try FileSystem.read(c) == Array("one".utf8))
    }

    @Test func linkReplacingKeepsTheSource() throws {
        let a = FileSystem.join(dir, "a"), b = FileSystem.join(dir, "b")
        try FileSystem.write(Array("one".utf8), to: a)
        try FileSystem.write(Array("old".utf8), to: b)
        try FileSystem.linkReplacing(a, to: b)
        #expect(try FileSystem.read(a) == Array("one".utf8))
        #expect(try FileSystem.read(b) == Array("one".utf8))
    }

    @Test func infoAndSize() throws {
        let path = FileSystem.join(dir, "sized")
        try FileSystem.write([UInt8](repeating: 0, count: 1234), to: path)
        #expect(FileSystem.size(path) == 1234)
        #expect(FileSystem.isRegularFile(path))
        let info = try #require(FileSystem.info(path))
        #expect(info.size == 1234)
        #expect(abs(info.modified - Date().timeIntervalSince1970) < 3600)
        #expect(FileSystem.info(FileSystem.join(dir, "none")) == nil)
        #expect(FileSystem.size(FileSystem.join(dir, "none")) == 0)
    }

    @Test(arguments: [
        (["a", "b"], "a/b"), (["a/", "b"], "a/b"), (["a", "/b"], "a/b"), (["a/", "/b"], "a/b"),
        (["/", "x", "y"], "/x/y"), (["a", "", "b"], "a/b"), (["", "b"], "b"),
    ])
    func joinUsesSingleSlashes(parts: [String], joined: String) {
        let result = parts.dropFirst().reduce(parts[0]) { FileSystem.join($0, $1) }
        #expect(result == joined)
    }

    @Test func absoluteResolvesDotsLexically() {
        #expect(FileSystem.absolute("/a/./b/../c") == "/a/c")
        let cwd = FileManager.default.currentDirectoryPath
        #expect(FileSystem.absolute("x/../y") == FileSystem.join(cwd, "y"))
    }

    @Test func readableFileReadsAtOffsetsAndRefusesSymlinksWhenAsked() throws {
        let path = FileSystem.join(dir, "bytes")
        try FileSystem.write((0..<200).map { UInt8($0) }, to: path)
        let file = try ReadableFile(path: path)
        #expect(try file.regularFileSize() == 200)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 50, alignment: 8)
        defer { buffer.deallocate() }
        #expect(try file.read(into: buffer, at: 180) == 20)
        #expect(buffer[0] == 180 && buffer[19] == 199)
        let link = FileSystem.join(dir, "link")
        #expect(symlink(path, link) == 0)
        #expect(throws: SupportError.self) { try ReadableFile(path: link, followSymlinks: false) }
        #expect(throws: SupportError.notRegularFile(path: dir)) { try ReadableFile(path: dir).regularFileSize() }
    }

    @Test func sha256OfAFileMatchesTheKnownDigest() throws {
        let path = FileSystem.join(dir, "abc")
        try FileSystem.write(Array("abc".utf8), to: path)
        let (hex, size) = try FileSHA256.hex(of: path)
        #expect(hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(size == 3)
        #expect(FileSHA256.hex(ofBytes: Array("abc".utf8)) == hex)
    }

    @Test func interruptedCallsAreRetriedAndOtherFailuresReturned() {
        var calls = 0
        let result = Syscall.retryingInterrupts { () -> Int32 in
            calls += 1
            if calls < 3 { errno = EINTR; return -1 }
            return 42
        }
        #expect(result == 42 && calls == 3)
        let failed = Syscall.retryingInterrupts { () -> Int32 in errno = EBADF; return -1 }
        #expect(failed == -1 && errno == EBADF)
    }
}
