import Foundation
import Testing

/// One row of `Fixtures/hostile/cases.json` (written by `Fixtures/hostile/make.py`): a committed
/// hostile input and the `ferry` command that must refuse it.
struct HostileFixtureCase: Decodable, Sendable, CustomTestStringConvertible {
    /// The fixture's path relative to `Fixtures/hostile` (a file or a folder).
    var fixture: String
    /// The ferry arguments; `FIXTURE` stands for the copied fixture, `OUT` for the output path.
    var command: [String]
    /// A fragment the error message on standard error must contain.
    var fragment: String
    /// What the fixture attacks, in words.
    var attack: String

    var testDescription: String { "ferry \(command.prefix(2).joined(separator: " ")) \(fixture)" }

    /// Whether the command is `transfer receive`, whose output folder exists before the run.
    var receivesIntoOut: Bool { command.starts(with: ["transfer", "receive"]) }
}

/// Runs every committed hostile fixture through the CLI: exit status 1 (not a crash), a clear
/// message, and nothing written outside the fixture's own copy.
@Suite struct HostileFixtureTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hostile")

    static let cases: [HostileFixtureCase] = {
        let url = folder.appendingPathComponent("cases.json")
        guard let data = try? Data(contentsOf: url),
              let cases = try? JSONDecoder().decode([HostileFixtureCase].self, from: data) else { return [] }
        return cases
    }()

    @Test func everyCommittedFixtureHasACase() throws {
        #expect(Self.cases.count >= 40, "cases.json is missing or short: run make.py")
        let named = Set(Self.cases.map(\.fixture))
        for group in ["archives", "jobs", "safetensors", "transfers"] {
            let entries = try FileManager.default.contentsOfDirectory(
                atPath: Self.folder.appendingPathComponent(group).path)
            #expect(!entries.isEmpty, "no fixtures in \(group)")
            for entry in entries {
                #expect(named.contains("\(group)/\(entry)"), "\(group)/\(entry) is not in cases.json")
            }
        }
        for fixture in named {
            #expect(FileManager.default.fileExists(atPath: Self.folder.appendingPathComponent(fixture).path))
        }
    }

    @Test(arguments: cases)
    func isRefusedWithoutWritingOutside(_ hostile: HostileFixtureCase) throws {
        // root/tmp is the command's TMPDIR; root/sandbox/work holds the fixture's copy and OUT, two
        // levels down so that a '../../x' escape from OUT still lands inside root and is seen.
        let root = try FerryCLI.temporaryDirectory("hostile")
        defer { try? FileManager.default.removeItem(at: root) }
        let tmp = root.appendingPathComponent("tmp")
        let work = root.appendingPathComponent("sandbox/work")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let copy = work.appendingPathComponent((hostile.fixture as NSString).lastPathComponent)
        try FileManager.default.copyItem(at: Self.folder.appendingPathComponent(hostile.fixture), to: copy)
        // The copy keeps the checkout's times; a receiver would expire transfer folders idle for over
        // an hour instead of refusing them.
        try Self.touch(copy)
        let out = work.appendingPathComponent("OUT")
        if hostile.receivesIntoOut {
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: false)
        }
        let before = try Self.tree(root)

        let arguments = hostile.command.map { argument in
            if argument == "OUT" { return out.path }
            if argument == "FIXTURE" { return copy.path }
            if argument.hasPrefix("FIXTURE/") { return copy.path + argument.dropFirst("FIXTURE".count) }
            return argument
        }
        let result = try FerryCLI.run(arguments, in: work, environment: ["TMPDIR": tmp.path])

        #expect(result.status == 1, "exit \(result.status) (1 expected; a crash gives a signal number); stderr: \(result.stderr)")
        #expect(result.stderr.contains(hostile.fragment),
                "stderr lacks '\(hostile.fragment)': \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"), "crash: \(result.stderr)")

        // Only the transfer receiver may write, and only inside its inbox (the `failed` record).
        let allowedPrefix = hostile.receivesIntoOut ? copy.path + "/" : nil
        let gained = try Self.tree(root).subtracting(before).filter { path in
            guard let allowedPrefix else { return true }
            return !path.hasPrefix(allowedPrefix)
        }
        #expect(gained.isEmpty, "written outside the fixture: \(gained.sorted())")
        if !hostile.receivesIntoOut {
            #expect(!FileManager.default.fileExists(atPath: out.path), "OUT was created")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/ferry-hostile-evil.txt"))
    }

    /// Sets the modification time of `root` and everything under it (links not followed) to now.
    static func touch(_ root: URL) throws {
        let now = Date()
        var pending = [root.path]
        while let path = pending.popLast() {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if attributes[.type] as? FileAttributeType == .typeSymbolicLink { continue }
            try FileManager.default.setAttributes([.modificationDate: now], ofItemAtPath: path)
            if attributes[.type] as? FileAttributeType == .typeDirectory {
                pending += try FileManager.default.contentsOfDirectory(atPath: path).map { path + "/" + $0 }
            }
        }
    }

    /// Every path under `root` (files, folders, links; links not followed).
    static func tree(_ root: URL) throws -> Set<String> {
        var paths = Set<String>()
        var pending = [root.path]
        while let dir = pending.popLast() {
            for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
                let path = dir + "/" + name
                paths.insert(path)
                let attributes = try FileManager.default.attributesOfItem(atPath: path)
                if attributes[.type] as? FileAttributeType == .typeDirectory { pending.append(path) }
            }
        }
        return paths
    }
}
