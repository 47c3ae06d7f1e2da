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
        #expect(result.stdout.contains("streaming FedAvg"))
        #expect(result.stdout.contains("peak RSS"))
        #expect(FileManager.default.fileExists(atPath: scratch + "/global.safetensors"))
    }

    @Test func aggregateBenchRejectsUnknownModelAsUsageError() throws {
        let result = try FerryCLI.run(["bench", "aggregate", "--like", "no-such-model"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--like must be one of"))
    }
}
