import FerryRuntime
import FerryTensors
import Foundation
import Testing

/// Issue 17: `workflow: fedprox` and `workflow: scaffold` end to end, with a numpy executor whose update
/// is a known function of the global model, the round config and the control variates; the server's
/// models and control variate are checked against the same arithmetic done here.
@Suite(.tags(.spawnsProcesses)) struct DriftCorrectionFederationTests {
    /// ferry's Python package in this checkout, for the executors (PYTHONPATH).
    static let pythonPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("python").path

    static let hasNumpy: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import numpy"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    static let targets: [String: [Double]] = ["site-1": [1, 2, -3], "site-2": [-1, 0.5, 4]]
    static let samples: [String: Double] = ["site-1": 1, "site-2": 3]
    static let initial: [Float] = [0.5, -0.25, 1]

    /// Two local steps of gradient descent on ½‖w − t‖² (plus fedprox's term, or with scaffold's
    /// correction); the rest is the library's (ferry.fedprox, ferry.scaffold).
    static let script = """
    import os, time
    import numpy as np
    import ferry

    task = ferry.receive()
    site, lr = task.site, float(task.config.get("learning_rate", 0.5))
    with open(os.environ["TRACE"], "a") as f:
        f.write(f"{site} {task.round} {task.config.get('fedprox_mu')}\\n")
    gate = os.environ.get("GATE", "")
    if gate and site == "site-1" and task.round == 2:
        open(gate + ".waiting", "w").close()
        deadline = time.time() + 600
        while not os.path.exists(gate + ".go") and time.time() < deadline:
            time.sleep(0.05)
    t = np.array(\(targets["site-1"]!) if site == "site-1" else \(targets["site-2"]!))
    n = \(Int(samples["site-1"]!)) if site == "site-1" else \(Int(samples["site-2"]!))
    x = task.model["w"]
    y = x.astype(np.float64)
    if os.environ["MODE"] == "fedprox":
        mu = ferry.fedprox.mu(task)
        for _ in range(2):
            y = y - lr * ((y - t) + ferry.fedprox.proximal_gradient({"w": y}, {"w": x}, mu)["w"])
        ferry.send({"w": y}, num_samples=n)
    else:
        cv = task.control_variates
        for _ in range(2):
            y = y - lr * ferry.scaffold.corrected_gradient(y - t, cv.c["w"], cv.c_i["w"])
        _, delta = ferry.scaffold.control_update(cv.c, cv.c_i, {"w": x}, {"w": y}, steps=2, lr=lr)
        ferry.send({"w": y}, num_samples=n, control_delta=delta)

    """

    static func weights(_ path: String, _ name: String = "w") throws -> [Float] {
        let reader = try SafetensorsReader(path: path)
        return try reader.floats(of: try reader.tensor(named: name))
    }

    static func expectClose(_ actual: [Float], _ expected: [Float], _ what: String) {
        #expect(actual.count == expected.count, "\(what): \(actual) vs \(expected)")
        for (a, e) in zip(actual, expected) {
            #expect(abs(a - e) <= 1e-6 * max(1, abs(e)), "\(what): \(actual) vs reference \(expected)")
        }
    }

    /// Writes the job and starts a two-client federation.
    static func start(_ dir: String, mode: String, server: String, gate: String = "") throws -> (LocalFederation, String, String) {
        let trace = dir + "/trace"
        let job = try RT.writeJob(in: dir, name: mode, server: RT.Server(workflow: mode, rounds: 2, minClients: 2, extra: """
            initial_model: models/initial.safetensors
            keep: rounds
            \(server)
            """), command: ["python3", "train.py"],
            env: ["PYTHONPATH": pythonPackage, "TRACE": trace, "MODE": mode, "GATE": gate], files: ["train.py": script])
        try FileManager.default.createDirectory(atPath: job + "/models", withIntermediateDirectories: true)
        try RT.writeModel(job + "/models/initial.safetensors", tensors: [("w", initial)])
        let fed = try RT.federation(in: dir, clients: 2)
        return (fed, try fed.submit(job).id, trace)
    }

    // MARK: fedprox

    /// The reference: each site's two proximal steps from x, then fedavg's weighted mean (F32 at the wire).
    static func fedproxReference(mu: Double, rates: [Double]) -> [[Float]] {
        var x = initial
        var rounds: [[Float]] = []
        for lr in rates {
            var results: [(y: [Float], n: Double)] = []
            for site in ["site-1", "site-2"] {
                let t = targets[site]!
                let y = x.indices.map { j -> Float in
                    var w = Double(x[j])
                    for _ in 0..<2 { w = w - lr * ((w - t[j]) + mu * (w - Double(x[j]))) }
                    return Float(w)
                }
                results.append((y, samples[site]!))
            }
            let total = results.reduce(0) { $0 + $1.n }
            x = x.indices.map { j in Float(results.reduce(0.0) { $0 + ($1.n * Double($1.y[j])) } / total) }
            rounds.append(x)
        }
        return rounds
    }

    @Test(.enabled(if: hasNumpy, "python3 with numpy is not installed"))
    func fedproxSendsMuEveryRoundAndAveragesLikeFedAvg() throws {
        let dir = try RT.temporaryDirectory("fedprox")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (fed, id, trace) = try Self.start(dir, mode: "fedprox", server: """
            mu: 0.25
            round_config:
              learning_rate: {per_round: [0.5, 0.25]}
            """)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.rounds.map(\.workflow) == ["fedprox", "fedprox"])
        #expect(RT.lines(trace).sorted() == ["site-1 1 0.25", "site-1 2 0.25", "site-2 1 0.25", "site-2 2 0.25"])
        let reference = Self.fedproxReference(mu: 0.25, rates: [0.5, 0.25])
        Self.expectClose(try Self.weights(run.paths.globalModel(round: 1)), reference[0], "round 1")
        Self.expectClose(try Self.weights(run.paths.finalModel), reference[1], "round 2")
        // mu changes the result: without it the same steps end elsewhere.
        #expect(Self.fedproxReference(mu: 0, rates: [0.5, 0.25])[1] != reference[1])
    }

    // MARK: scaffold

    /// The reference (option II, η_l = 0.5, K = 2, server_lr 0.8), with the F32 roundings the files make:
    /// the clients' models and Δcᵢ on the wire, cᵢ at the sites, x and c at the server.
    static func scaffoldReference(rounds: Int, serverLR eta: Double) -> (rounds: [(x: [Float], c: [Float])], local: [String: [Float]]) {
        let lr = 0.5
        var x = initial
        var c = [Float](repeating: 0, count: initial.count)
        var ci: [String: [Float]] = ["site-1": c, "site-2": c]
        var out: [(x: [Float], c: [Float])] = []
        for _ in 0..<rounds {
            var ys: [[Float]] = [], deltas: [[Float]] = []
            for site in ["site-1", "site-2"] {
                let t = targets[site]!
                var y = [Float](), delta = [Float](), local = ci[site]!
                for j in x.indices {
                    var w = Double(x[j])
                    for _ in 0..<2 { w = w - lr * (((w - t[j]) - Double(local[j])) + Double(c[j])) }
                    let next = (Double(local[j]) - Double(c[j])) + (Double(x[j]) - w) / (2 * lr)
                    let d = Float(next - Double(local[j]))
                    y.append(Float(w))
                    delta.append(d)
                    local[j] = Float(Double(local[j]) + Double(d))
                }
                ci[site] = local
                ys.append(y)
                deltas.append(delta)
            }
            let n = [samples["site-1"]!, samples["site-2"]!], total = n[0] + n[1]
            c = c.indices.map { j in Float(Double(c[j]) + Double(deltas[0][j]) / 2 + Double(deltas[1][j]) / 2) }
            x = x.indices.map { j in
                Float((1 - eta) * Double(x[j]) + eta * (n[0] / total) * Double(ys[0][j]) + eta * (n[1] / total) * Double(ys[1][j]))
            }
            out.append((x, c))
        }
        return (out, ci)
    }

    func checkScaffold(_ run: JobRun, _ what: String) throws {
        #expect(run.state.state == .finishedCompleted, "\(what): \(run.state.reason ?? "")")
        #expect(run.rounds.map(\.workflow) == ["scaffold", "scaffold"])
        let reference = Self.scaffoldReference(rounds: 2, serverLR: 0.8).rounds
        for round in 1...2 {
            Self.expectClose(try Self.weights(run.paths.globalModel(round: round)), reference[round - 1].x, "\(what): x after round \(round)")
        }
        Self.expectClose(try Self.weights(run.paths.directory + "/models/control-round-2.safetensors"), reference[1].c,
                         "\(what): c after round 2")
        // c moved: the test exercises the correction, not zeros.
        #expect(reference[1].c.contains { abs($0) > 0.1 })
    }

    @Test(.enabled(if: hasNumpy, "python3 with numpy is not installed"))
    func scaffoldMatchesTheReferenceAfterTwoRounds() throws {
        let dir = try RT.temporaryDirectory("scaffold")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (fed, id, trace) = try Self.start(dir, mode: "scaffold", server: "server_lr: 0.8")
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, id)
        try checkScaffold(run, "scaffold")
        #expect(RT.lines(trace).sorted() == ["site-1 1 None", "site-1 2 None", "site-2 1 None", "site-2 2 None"])
        // Each site keeps its own cᵢ in its job folder: cᵢ + Δcᵢ of both rounds.
        let local = Self.scaffoldReference(rounds: 2, serverLR: 0.8).local
        for (client, site) in zip(fed.clients, ["site-1", "site-2"]) {
            Self.expectClose(try Self.weights(client + "/jobs/\(id)/control-local.safetensors"), local[site]!, "c_i of \(site)")
        }
    }

    @Test(.enabled(if: hasNumpy, "python3 with numpy is not installed"))
    func scaffoldKilledMidRoundResumesWithTheSameResult() throws {
        let dir = try RT.temporaryDirectory("scaffold-restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gate = dir + "/gate"
        let (fed, id, trace) = try Self.start(dir, mode: "scaffold", server: "server_lr: 0.8", gate: gate)
        defer { fed.stop() }
        // site-1's round-2 executor waits at the gate: kill its watcher and the server's mid-round.
        let waiting = try RT.wait(fed, id) { _ in FileManager.default.fileExists(atPath: gate + ".waiting") }
        #expect(FileManager.default.fileExists(atPath: gate + ".waiting"), "round 2 never started: \(waiting.state.state)")
        for site in ["server", "site-1"] {
            let watcher = try #require(fed.watcher(site))
            watcher.send(SIGKILL)
            #expect(watcher.wait(timeout: .seconds(120)), "watcher \(site) did not die")
        }
        _ = FileManager.default.createFile(atPath: gate + ".go", contents: Data())
        for site in ["server", "site-1"] { try fed.restart(site) }
        let run = try RT.waitFinished(fed, id)
        try checkScaffold(run, "after the restart")
        #expect(RT.lines(trace).filter { $0 == "site-1 2 None" }.count >= 2, "site-1's round-2 task did not run again")
    }
}
