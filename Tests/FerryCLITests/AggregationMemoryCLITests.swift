import Foundation
import Testing

/// Issue 17's memory goal at a real model shape: each aggregator, over three gpt2-small clients
/// (475 MiB each as F32), stays at 64 MiB of peak RSS or less. The whole `ferry bench aggregate`
/// child is measured (synthesis and the baseline copy included) by /usr/bin/time, from the kernel's
/// accounting of the child: the figure depends on the buffers, not on timing or load.
@Suite struct AggregationMemoryCLITests {
    @Test(arguments: ["mean", "median", "trimmed-mean", "fedopt"])
    func aggregatorStaysWithin64MiBAtGPT2SmallShape(aggregator: String) throws {
        let time = "/usr/bin/time"
        guard FileManager.default.isExecutableFile(atPath: time) else {
            Issue.record("\(time) is missing: install the `time` package (scripts/ensure-deps.sh)")
            return
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-agg-mem-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: time)
        process.arguments = ["-f", "maxrss-kib %M", FerryCLI.binary.path, "bench", "aggregate", "--like", "gpt2-small",
                             "--clients", "3", "--trim", "1", "--repeat", "1", "--aggregator", aggregator,
                             "--scratch", scratch]
        // Files, not pipes: the child's progress output cannot fill a pipe that nobody reads yet.
        let outPath = scratch + ".out", errPath = scratch + ".err"
        defer { for p in [outPath, errPath] { try? FileManager.default.removeItem(atPath: p) } }
        for path in [outPath, errPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        process.waitUntilExit()
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(stdout)\(stderr)")
        let line = try #require(stderr.split(separator: "\n").last { $0.hasPrefix("maxrss-kib ") }, "\(stderr)")
        let kib = try #require(Int(line.dropFirst("maxrss-kib ".count)))
        #expect(kib > 0 && kib <= 64 * 1024, "\(aggregator): peak RSS \(kib) KiB > 64 MiB\n\(stdout)")
    }
}
