import Foundation
import Testing

@Suite struct BenchCLITests {
    @Test func aggregateBenchPrintsBothRowsAndCleansUp() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-bench-agg-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let result = try FerryCLI.run(["bench", "aggregate", "--like", "tiny-mlp", "--clients", "2", "--repeat", "1",
                                       "--scratch", scratch])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("read clients + write model"))
        #expect(result.stdout.contains("streaming mean"))
        #expect(result.stdout.contains("peak RSS"))
        #expect(FileManager.default.fileExists(atPath: scratch + "/global.safetensors"))
    }

    @Test func aggregateBenchRejectsUnknownModelAsUsageError() throws {
        let result = try FerryCLI.run(["bench", "aggregate", "--like", "no-such-model"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--like must be one of"))
    }

    @Test func federationBenchRunsAPythonFederationAndMeasuresIt() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import numpy, safetensors.numpy"]
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            print("SKIPPED federationBenchRunsAPythonFederationAndMeasuresIt: python3 has no numpy/safetensors (scripts/ensure-deps.sh installs them)")
            return
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-bench-fed-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let result = try FerryCLI.run(["bench", "federation", "--like", "tiny-mlp", "--clients", "2", "--rounds", "2",
                                       "--scratch", scratch])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("cp + sync of the model"))
        let row = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("ferry poc (2 clients, 2 rounds)") })
        #expect(row.hasSuffix("MiB") || row.hasSuffix("KiB") || row.hasSuffix("GiB"), "peak memory measured: \(row)")
        // The Python clients really ran: each round's global model moved by their constant.
        let summary = try String(contentsOfFile: scratch + "/poc.log", encoding: .utf8)
        #expect(summary.contains("finished:completed"), "\(summary)")
        #expect(summary.contains("round 2/2 done: delta=0.0100"), "\(summary)")
    }

    @Test func federationBenchRejectsBadCountsAsUsageErrors() throws {
        #expect(try FerryCLI.run(["bench", "federation", "--clients", "0"]).status == 2)
        #expect(try FerryCLI.run(["bench", "federation", "--like", "no-such-model"]).status == 2)
    }
}
