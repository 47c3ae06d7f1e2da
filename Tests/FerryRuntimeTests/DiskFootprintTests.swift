import FerryRuntime
import FerryWorkspace
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The disk a federation uses is bounded by the model, not by the rounds: for a fedavg job with model
/// size M and N clients, every site on this machine, all sites together hold at most (3N + 3)·M while the
/// job runs and at most 3·M after it (docs/workspaces.md, "Disk footprint").
@Suite(.tags(.spawnsProcesses)) struct DiskFootprintTests {
    /// 4 MiB of incompressible f32 values.
    static let modelValues = 1 << 20

    static func writeJob(in dir: String, rounds: Int, serverKeep: String = "", clientKeep: String = "") throws -> String {
        let script = """
        cp "$FERRY_INPUT_MODEL" "$FERRY_OUTPUT_MODEL"
        printf '{"num_samples": 1, "metrics": {"loss": %s}}' "$FERRY_ROUND" > "$FERRY_RESULT"

        """
        // Chunks of 256 KiB, window 4: the transfers' windows (≤ 1 MiB each) are small against the model,
        // as 8 MiB × 4 is against a real one.
        let transfer = "transfer:\n  chunk: 256KiB\n  window: 4\n"
        let job = try RT.writeJob(in: dir, name: "footprint",
                                  server: .init(rounds: rounds, extra: "initial_model: init.safetensors\n" + transfer + serverKeep),
                                  command: ["sh", "copy.sh"], files: ["copy.sh": script])
        let app = job + "/apps/client/app.yaml"
        try (try String(contentsOfFile: app, encoding: .utf8) + transfer + clientKeep + "\n").write(toFile: app, atomically: true, encoding: .utf8)
        var state: UInt64 = 0x5eed
        let values = (0..<modelValues).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
        }
        try RT.writeModel(job + "/init.safetensors", tensors: [("w", values)])
        return job
    }

    /// Bytes of the files under `dir`, each file counted once however many hard links it has.
    static func usage(_ dir: String) -> Int64 {
        var seen = Set<[UInt64]>()
        var total: Int64 = 0
        let enumerator = FileManager.default.enumerator(atPath: dir)
        while let name = enumerator?.nextObject() as? String {
            var st = stat()
            guard lstat(dir + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            if seen.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted { total += Int64(st.st_size) }
        }
        return total
    }

    /// Model files (`*.safetensors`) under `dir`, relative paths.
    static func models(under dir: String) -> [String] {
        (FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".safetensors") }.sorted()
    }

    @Test func peakAndFinalFootprintAreBoundedByTheModel() throws {
        let dir = try RT.temporaryDirectory("footprint")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try Self.writeJob(in: dir + "/job", rounds: 3)
        let model = Int64(try FileManager.default.attributesOfItem(atPath: job + "/init.safetensors")[.size] as! UInt64)
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let root = fed.directory
        let clients = Int64(fed.clients.count)
        let id = try fed.submit(job).id
        var peak = Self.usage(root)
        let run = try RT.wait(fed, id, timeout: .seconds(180)) { run in
            peak = max(peak, Self.usage(root))
            return run.state.state.isFinished
        }
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        print("footprint: M = \(model) bytes, N = \(clients): peak \(peak) bytes = \(String(format: "%.2f", Double(peak) / Double(model)))·M (bound \(3 * clients + 3)·M)")
        #expect(peak <= (3 * clients + 3) * model, "peak \(Double(peak) / Double(model))·M")

        // After the job: the clients let go of their files once their last results are through.
        let deadline = ContinuousClock.now + .seconds(60)
        var after = Self.usage(root)
        while after > 3 * model, ContinuousClock.now < deadline {
            usleep(50_000)
            after = Self.usage(root)
        }
        print("footprint: after the job \(after) bytes = \(String(format: "%.2f", Double(after) / Double(model)))·M (bound 3·M)")
        #expect(after <= 3 * model, "after the job \(Double(after) / Double(model))·M: \(Self.models(under: root))")
        let serverModels = Self.models(under: run.paths.directory)
        #expect(serverModels == ["files/init.safetensors", "models/final.safetensors"],
                "only the initial model (beside the archive) and the final model stay on the server: \(serverModels)")
        for client in fed.clients {
            #expect(Self.models(under: client).isEmpty, "\(client): \(Self.models(under: client))")
        }
        // The round records still name every round's model (removed without `keep: rounds`).
        #expect(run.rounds.map(\.globalModel) == (1...3).map { "models/global-round-\($0).safetensors" })
    }

    @Test func keepRoundsAndKeepOutputsKeepTheirFiles() throws {
        let dir = try RT.temporaryDirectory("footprint-keep")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try Self.writeJob(in: dir + "/job", rounds: 2, serverKeep: "keep: rounds", clientKeep: "keep: outputs")
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let run = try RT.waitFinished(fed, id, timeout: .seconds(180))
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        let serverModels = Self.models(under: run.paths.directory)
        #expect(serverModels == ["files/init.safetensors", "models/final.safetensors", "models/global-round-1.safetensors",
                                 "models/global-round-2.safetensors"],
                "\(serverModels)")
        // The final model is the last global model itself (a hard link), not a copy.
        var final = stat(), last = stat()
        #expect(stat(run.paths.finalModel, &final) == 0 && stat(run.paths.globalModel(round: 2), &last) == 0)
        #expect(final.st_ino == last.st_ino)
        let expected = ["jobs/\(id)/tasks/train-r0001/output.safetensors", "jobs/\(id)/tasks/train-r0002/output.safetensors"]
        for client in fed.clients {
            let deadline = ContinuousClock.now + .seconds(60)
            var kept = Self.models(under: client)
            while kept != expected, ContinuousClock.now < deadline {
                usleep(50_000)
                kept = Self.models(under: client)
            }
            #expect(kept == expected, "\(client): only the outputs stay with `keep: outputs`")
        }
    }

    @Test func retentionRemovesFinishedJobsOnEverySite() throws {
        let dir = try RT.temporaryDirectory("retention")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try Self.writeJob(in: dir + "/job", rounds: 1)
        let fed = try RT.federation(in: dir, start: false)
        defer { fed.stop() }
        let sites = [fed.server.directory] + fed.clients
        for site in sites {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: site + "/site.yaml"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("retention: \"2s\"\n".utf8))
            try handle.close()
        }
        try RT.startWatchers(fed)
        let id = try fed.submit(job).id
        let run = try RT.waitFinished(fed, id, timeout: .seconds(180))
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        let folders = sites.map { $0 + "/jobs/" + id }
        let deadline = ContinuousClock.now + .seconds(60)
        while folders.contains(where: { FileManager.default.fileExists(atPath: $0) }), ContinuousClock.now < deadline {
            usleep(100_000)
        }
        for folder in folders {
            #expect(!FileManager.default.fileExists(atPath: folder), "\(folder) is still there after the retention")
        }
        #expect(fed.deadWatcher == nil)
    }

    @Test func anInvalidRetentionStopsTheWatcherWithTheFileNamed() throws {
        let dir = try RT.temporaryDirectory("retention-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fed = try RT.federation(in: dir, clients: 1, start: false)
        let site = fed.server.directory
        try (try String(contentsOfFile: site + "/site.yaml", encoding: .utf8) + "retention: \"a week\"\n")
            .write(toFile: site + "/site.yaml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RT.ferryBinary)
        process.arguments = ["watch", site, "--quiet"]
        let errors = dir + "/watch.err"
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("the watcher did not stop on an invalid retention")
        }
        let text = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 1, "\(text)")
        #expect(text.contains("site.yaml") && text.contains("retention 'a week'"), "\(text)")
    }
}
