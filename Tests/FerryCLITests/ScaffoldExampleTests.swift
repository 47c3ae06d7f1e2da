import Foundation
import Testing

/// Issue 17: the SCAFFOLD example job (jobs/numpy-scaffold) validates and runs with `ferry poc`.
@Suite(.tags(.spawnsProcesses)) struct ScaffoldExampleTests {
    static let job = FerryCLI.repositoryRoot.appendingPathComponent("jobs/numpy-scaffold").path

    @Test func theExampleValidates() throws {
        let r = try FerryCLI.run(["job", "validate", Self.job])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("ok: numpy-scaffold"))
    }

    @Test(.enabled(if: FerryCLI.pythonHasNumpy, "python3 with numpy is not installed"))
    func pocRunsTheNumpyScaffoldExample() throws {
        let dir = try FerryCLI.temporaryDirectory("poc-scaffold")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try FerryCLI.run(["poc", Self.job, "--workspace", dir.appendingPathComponent("fed").path, "--poll", "50ms"],
                                 environment: FerryCLI.pythonPackageEnvironment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("round 5/5 done"))
        let lossLine = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("loss: ") })
        let values = lossLine.dropFirst(6).components(separatedBy: " → ").compactMap { Double($0) }
        #expect(values.count == 2 && values[1] < values[0], "\(lossLine)")
    }
}
