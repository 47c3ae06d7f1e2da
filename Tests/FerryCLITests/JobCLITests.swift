import Foundation
import Testing

/// `ferry job validate|pack|inspect|unpack` on a copy of jobs/hello-fedavg in a temporary folder.
@Suite struct JobCLITests {
    /// A temporary folder holding `job/`, a copy of the example job.
    final class Workspace {
        let root: URL
        var job: String { root.appendingPathComponent("job").path }
        init() throws {
            root = try FerryCLI.temporaryDirectory("job-cli")
            let example = FerryCLI.repositoryRoot.appendingPathComponent("jobs/hello-fedavg")
            try FileManager.default.copyItem(at: example, to: root.appendingPathComponent("job"))
        }
        deinit { try? FileManager.default.removeItem(at: root) }
        func path(_ name: String) -> String { root.appendingPathComponent(name).path }
    }

    /// Every file below `root` with its bytes, and every folder (nil), by relative path.
    static func tree(_ root: String) throws -> [String: Data?] {
        var result: [String: Data?] = [:]
        let enumerator = try #require(FileManager.default.enumerator(atPath: root))
        while let rel = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDirectory)
            result[rel] = isDirectory.boolValue ? .some(nil) : try Data(contentsOf: URL(fileURLWithPath: root + "/" + rel))
        }
        return result
    }

    @Test func validateAcceptsTheExampleJob() throws {
        let w = try Workspace()
        let r = try FerryCLI.run(["job", "validate", w.job])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("ok: hello-fedavg"))
    }

    @Test func validateReportsEveryErrorWithItsPosition() throws {
        let w = try Workspace()
        let server = w.job + "/apps/server/app.yaml"
        var lines = try String(contentsOfFile: server, encoding: .utf8).components(separatedBy: "\n")
        let roundsLine = try #require(lines.firstIndex { $0.hasPrefix("rounds:") })
        lines[roundsLine] = "rounds: three"
        lines.append("roundz: 2")
        try lines.joined(separator: "\n").write(toFile: server, atomically: true, encoding: .utf8)

        let r = try FerryCLI.run(["job", "validate", w.job])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("apps/server/app.yaml:\(roundsLine + 1):9: error: 'rounds' must be a whole number, found 'three'"))
        #expect(r.stderr.contains("apps/server/app.yaml:\(lines.count):1: error: unknown key 'roundz'"))
        #expect(r.stderr.contains("hint: did you mean 'rounds'?"))
        #expect(r.stderr.contains("2 errors in"))
    }

    @Test func validateReportsAMissingScriptAndAnUnclosedBracketWhereTheyAre() throws {
        let w = try Workspace()
        let custom = w.job + "/apps/client/custom"
        try FileManager.default.createDirectory(atPath: custom, withIntermediateDirectories: true)
        try "print('train')\n".write(toFile: custom + "/train.py", atomically: true, encoding: .utf8)
        let client = w.job + "/apps/client/app.yaml"
        var lines = try String(contentsOfFile: client, encoding: .utf8).components(separatedBy: "\n")
        let commandLine = try #require(lines.firstIndex { $0.hasPrefix("  command:") })
        lines[commandLine] = "  command: [python3, custom/trian.py, --lr, \"0.1\", \"{result}\"]"
        try lines.joined(separator: "\n").write(toFile: client, atomically: true, encoding: .utf8)

        let r = try FerryCLI.run(["job", "validate", w.job])
        #expect(r.status == 1)
        #expect(r.stderr.contains("apps/client/app.yaml:\(commandLine + 1):22: error: 'executor.command' names 'custom/trian.py', "
                                  + "which does not exist in the app folder"), "\(r.stderr)")
        #expect(r.stderr.contains("hint: did you mean 'custom/train.py'?"))
        #expect(r.stderr.contains("1 error in"), "\(r.stderr)")

        lines[commandLine] = "  command: [python3, custom/train.py"
        try lines.joined(separator: "\n").write(toFile: client, atomically: true, encoding: .utf8)
        let unclosed = try FerryCLI.run(["job", "validate", w.job])
        #expect(unclosed.status == 1)
        #expect(unclosed.stderr.contains("apps/client/app.yaml:\(commandLine + 1):12: error: this '[' is never closed"), "\(unclosed.stderr)")
    }

    @Test func usageErrorsExitWithTwo() throws {
        #expect(try FerryCLI.run(["job", "validate"]).status == 2)
        #expect(try FerryCLI.run(["job", "pack"]).status == 2)
        #expect(try FerryCLI.run(["job", "unpack", "only-one-argument.tar.gz"]).status == 2)
        let w = try Workspace()
        #expect(try FerryCLI.run(["job", "validate", w.path("missing")]).status == 2)
        let mismatch = try FerryCLI.run(["job", "pack", w.job, "-o", w.path("a.zip"), "--format", "tar.gz"])
        #expect(mismatch.status == 2)
        #expect(mismatch.stderr.contains("does not match"))
        #expect(try FerryCLI.run(["job", "unpack", "a.tar.gz", w.path("out"), "--max-entry-size", "lots"]).status == 2)
    }

    @Test(arguments: ["tar.gz", "tar.zst", "zip"])
    func packTwiceGivesIdenticalBytes(format: String) throws {
        let w = try Workspace()
        let a = w.path("a." + format), b = w.path("b." + format)
        let first = try FerryCLI.run(["job", "pack", w.job, "-o", a])
        #expect(first.status == 0, "\(first.stderr)")
        // Other mtimes must not matter.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 86_400)],
                                              ofItemAtPath: w.job + "/job.yaml")
        let second = try FerryCLI.run(["job", "pack", w.job, "-o", b, "--format", format, "--quiet"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.isEmpty)
        let bytesA = try Data(contentsOf: URL(fileURLWithPath: a))
        #expect(bytesA == (try Data(contentsOf: URL(fileURLWithPath: b))))
        let shaA = try #require(first.stdout.split(separator: " ").first)
        #expect(shaA.count == 64)
        #expect(first.stdout == "\(shaA)  \(a)\n")
        #expect(second.stdout == "\(shaA)  \(b)\n")
    }

    @Test func packIsIndependentOfTheLocaleAndKeepsNonASCIINames() throws {
        let w = try Workspace()
        try FileManager.default.createDirectory(atPath: w.job + "/apps/client/custom", withIntermediateDirectories: true)
        try "données\n".write(toFile: w.job + "/apps/client/custom/données-ü.txt", atomically: true, encoding: .utf8)
        var digests: [String] = []
        for (index, locale) in ["C", "C.UTF-8", "POSIX"].enumerated() {
            let r = try FerryCLI.run(["job", "pack", w.job, "-o", w.path("\(index).tar.gz"), "-q"],
                                     environment: ["LC_ALL": locale, "LANG": locale])
            #expect(r.status == 0, "\(locale): \(r.stderr)")
            digests.append(String(r.stdout.prefix(64)))
        }
        #expect(Set(digests).count == 1)
        let out = w.path("out")
        #expect(try FerryCLI.run(["job", "unpack", w.path("0.tar.gz"), out], environment: ["LC_ALL": "C"]).status == 0)
        #expect(try String(contentsOfFile: out + "/apps/client/custom/données-ü.txt", encoding: .utf8) == "données\n")
    }

    @Test func packInspectUnpackRoundTrip() throws {
        let w = try Workspace()
        // The job may gain files (models/ …); the counts come from the folder itself.
        let original = try Self.tree(w.job)
        let fileCount = original.values.filter { $0 != nil }.count
        let archive = w.path("hello.tar.zst")

        let pack = try FerryCLI.run(["job", "pack", w.job, "-o", archive])
        #expect(pack.status == 0, "\(pack.stderr)")
        #expect(pack.stderr.contains("packed hello-fedavg: \(fileCount) files"))
        let sha = String(pack.stdout.prefix(64))

        let inspect = try FerryCLI.run(["job", "inspect", archive])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("sha256:   \(sha)"))
        #expect(inspect.stdout.contains("job:      hello-fedavg"))
        #expect(inspect.stdout.contains("  server: server app: fedavg"))
        #expect(inspect.stdout.contains("  client: client app: runs ferry-example-trainer"))
        #expect(inspect.stdout.contains("deploy:   server → [server], client → all"))
        #expect(inspect.stdout.contains("files:    \(fileCount) files"))
        for (path, data) in original {
            if let data { #expect(inspect.stdout.contains("\(data.count)   \(path)\n") || inspect.stdout.contains("\(data.count) x \(path)\n"), "\(path)") }
        }
        #expect(inspect.stdout.contains("manifest: verified"))

        let out = w.path("unpacked")
        let unpack = try FerryCLI.run(["job", "unpack", archive, out])
        #expect(unpack.status == 0, "\(unpack.stderr)")
        #expect(unpack.stdout.contains("unpacked \(fileCount) files"))
        #expect(try Self.tree(out) == original)
        // The unpacked folder validates, and packs to the same bytes.
        #expect(try FerryCLI.run(["job", "validate", out]).status == 0)
        let again = try FerryCLI.run(["job", "pack", out, "-o", w.path("again.tar.zst"), "-q"])
        #expect(again.stdout.hasPrefix(sha))
        // Only the archives and the two folders exist: no staging folder was left.
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.root.path).sorted()
                == ["again.tar.zst", "hello.tar.zst", "job", "unpacked"])
    }

    @Test func invalidJobIsNotPacked() throws {
        let w = try Workspace()
        try "name: Bad Name\n".write(toFile: w.job + "/job.yaml", atomically: true, encoding: .utf8)
        let r = try FerryCLI.run(["job", "pack", w.job, "-o", w.path("x.tar.gz")])
        #expect(r.status == 1)
        #expect(r.stderr.contains("job.yaml:1:7: error: invalid job name 'Bad Name'"))
        #expect(r.stderr.contains("nothing was packed"))
        #expect(!FileManager.default.fileExists(atPath: w.path("x.tar.gz")))
    }

    @Test func corruptArchiveIsRefusedByInspectUnpackAndValidate() throws {
        let w = try Workspace()
        let archive = w.path("a.tar.gz")
        #expect(try FerryCLI.run(["job", "pack", w.job, "-o", archive, "-q"]).status == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        bytes = bytes.prefix(bytes.count / 2)
        try bytes.write(to: URL(fileURLWithPath: archive))

        let inspect = try FerryCLI.run(["job", "inspect", archive])
        #expect(inspect.status == 1)
        #expect(inspect.stdout.contains("manifest: NOT VERIFIED"))
        let out = w.path("out")
        let unpack = try FerryCLI.run(["job", "unpack", archive, out])
        #expect(unpack.status == 1)
        #expect(unpack.stderr.hasPrefix("ferry: "))
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FerryCLI.run(["job", "validate", archive]).status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: w.root.path).sorted() == ["a.tar.gz", "job"])
    }

    @Test func unpackLimitsAreEnforcedFromTheCommandLine() throws {
        let w = try Workspace()
        let archive = w.path("a.zip")
        #expect(try FerryCLI.run(["job", "pack", w.job, "-o", archive, "-q"]).status == 0)
        let out = w.path("out")
        let tooMany = try FerryCLI.run(["job", "unpack", archive, out, "--max-entries", "2"])
        #expect(tooMany.status == 1)
        #expect(tooMany.stderr.contains("entry count limit exceeded"))
        let tooBig = try FerryCLI.run(["job", "unpack", archive, out, "--max-entry-size", "100B"])
        #expect(tooBig.status == 1)
        #expect(tooBig.stderr.contains("entry size limit exceeded"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let help = try FerryCLI.run(["job", "unpack", "--help"])
        #expect(help.status == 0)
        for flag in ["--max-entries", "--max-entry-size", "--max-total-size", "--max-ratio"] {
            #expect(help.stdout.contains(flag))
        }
    }

    @Test func interruptedUnpackLeavesNothingBehind() throws {
        let w = try Workspace()
        try FileManager.default.createDirectory(atPath: w.job + "/models", withIntermediateDirectories: true)
        // 40 MiB that do not compress, so the unpack takes a moment.
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        try random.readData(ofLength: 40 << 20).write(to: URL(fileURLWithPath: w.job + "/models/big.bin"))
        try random.close()
        let archive = w.path("big.tar.zst")
        #expect(try FerryCLI.run(["job", "pack", w.job, "-o", archive, "-q"]).status == 0)

        let out = w.path("out")
        let process = Process()
        process.executableURL = FerryCLI.binary
        process.arguments = ["job", "unpack", archive, out, "-q"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Interrupt as soon as the staging folder shows up (or the unpack has already finished).
        let staging = { try FileManager.default.contentsOfDirectory(atPath: w.root.path).filter { $0.contains(".unpack-") } }
        while process.isRunning, try staging().isEmpty { usleep(1000) }
        process.interrupt()
        FerryCLI.waitForExit(process)

        #expect(try staging().isEmpty, "staging folder left behind (exit status \(process.terminationStatus))")
        #expect([0, 130].contains(process.terminationStatus))
        if FileManager.default.fileExists(atPath: out) {
            // The unpack won the race (it may have finished just before the interrupt landed, and still
            // exit 130): then it is complete.
            #expect(try Self.tree(out) == (try Self.tree(w.job)))
        } else {
            #expect(process.terminationStatus == 130)
        }
    }
}
