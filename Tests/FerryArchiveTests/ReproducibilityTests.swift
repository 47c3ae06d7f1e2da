import Foundation
import Testing
@testable import FerryArchive

@Suite struct ReproducibilityTests {
    /// Two packs of the same folder, and of a copy made at another time with other mtimes and
    /// creation order, are byte-identical.
    @Test(arguments: ArchiveFormat.allCases)
    func samefolderGivesIdenticalBytes(format: ArchiveFormat) throws {
        let scratch = try Scratch()
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        let a = scratch.file("a" + format.fileExtension)
        let b = scratch.file("b" + format.fileExtension)
        let c = scratch.file("c" + format.fileExtension)
        let first = try JobArchive.pack(directory: job, to: a, format: format)

        // Change metadata that must not matter: mtimes, and a copy written in another order.
        let old = Date(timeIntervalSince1970: 1_000_000)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: job + "/job.yaml")
        let second = try JobArchive.pack(directory: job, to: b, format: format)

        let copy = scratch.file("copy")
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        let snap = try snapshot(job)
        for path in snap.keys.sorted(by: >) {
            let full = copy + "/" + path
            if let data = snap[path]!.data {
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try Data(data).write(to: URL(fileURLWithPath: full))
                try FileManager.default.setAttributes([.posixPermissions: snap[path]!.executable ? 0o700 : 0o600],
                                                      ofItemAtPath: full)
            } else {
                try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
            }
        }
        let third = try JobArchive.pack(directory: copy, to: c, format: format)

        let bytesA = try Data(contentsOf: URL(fileURLWithPath: a))
        #expect(bytesA == (try Data(contentsOf: URL(fileURLWithPath: b))))
        #expect(bytesA == (try Data(contentsOf: URL(fileURLWithPath: c))))
        #expect(first.sha256 == second.sha256 && second.sha256 == third.sha256)
    }

    @Test func differentContentGivesDifferentBytes() throws {
        let scratch = try Scratch()
        let job = scratch.file("job")
        try makeJobFolder(at: job)
        let first = try JobArchive.pack(directory: job, to: scratch.file("a.tar.gz"), format: .tarGz)
        try Data("name: other\n".utf8).write(to: URL(fileURLWithPath: job + "/job.yaml"))
        let second = try JobArchive.pack(directory: job, to: scratch.file("b.tar.gz"), format: .tarGz)
        #expect(first.sha256 != second.sha256)
    }
}
