import FerryRuntime
import Foundation
import Testing

/// Issue 16, evaluation tasks, through local federations: fedavg's `evaluate_every` and the
/// `cross-site-eval` workflow. The executor's numbers are known functions of the model and the site:
/// a train task adds the site's number N (site-N) to every weight; an evaluate task reports
/// `score = sum(weights) + 100·N` on `10·N` samples. So every expected value is exact.
@Suite(.tags(.spawnsProcesses)) struct EvaluationFederationTests {
    /// A stdlib-only Python executor (F32 safetensors in and out); `EVAL_FAIL_SITE` makes evaluations
    /// fail there, `TRAIN_FAIL_SITE` train tasks, and `EVAL_GATE_SITE` holds evaluations there until the
    /// file `EVAL_GATE` exists.
    static let executor = """
    import json, os, struct, sys, time

    def read(path):
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            data = f.read()
        a, b = header["w"]["data_offsets"]
        return list(struct.unpack("<%df" % ((b - a) // 4), data[a:b]))

    def write(path, w):
        header = json.dumps({"w": {"dtype": "F32", "shape": [len(w)], "data_offsets": [0, 4 * len(w)]}}).encode()
        header += b" " * (-len(header) % 8)
        with open(path + ".tmp", "wb") as f:
            f.write(struct.pack("<Q", len(header)) + header + struct.pack("<%df" % len(w), *w))
        os.rename(path + ".tmp", path)

    env = os.environ
    site = env["FERRY_SITE"]
    n = int(site.split("-")[-1])
    kind = env["FERRY_TASK_KIND"]
    w = read(env["FERRY_INPUT_MODEL"])
    if kind == "evaluate":
        if env["FERRY_OUTPUT_MODEL"] != "" or env["FERRY_TASK"] != sys.argv[1]:
            sys.exit("evaluate task with an output model or a wrong {task}: %r %r" % (env["FERRY_OUTPUT_MODEL"], sys.argv[1]))
        if site in env.get("EVAL_FAIL_SITE", "").split(","):
            sys.exit("evaluation refused at " + site)
        if site == env.get("EVAL_GATE_SITE"):
            while not os.path.exists(env["EVAL_GATE"]):
                time.sleep(0.05)
        result = {"num_samples": 10 * n, "metrics": {"score": sum(w) + 100 * n}}
    else:
        if kind != "train" or sys.argv[2] != "train":
            sys.exit("unexpected task kind %r / {task_kind} %r" % (kind, sys.argv[2]))
        if site in env.get("TRAIN_FAIL_SITE", "").split(","):
            sys.exit("training refused at " + site)
        w = [x + n for x in w]
        write(env["FERRY_OUTPUT_MODEL"], w)
        result = {"num_samples": 10, "metrics": {"loss": sum(w)}}
    with open(env["FERRY_RESULT"] + ".tmp", "w") as f:
        json.dump(result, f)
    os.rename(env["FERRY_RESULT"] + ".tmp", env["FERRY_RESULT"])

    """

    static func writeJob(in dir: String, name: String, server: RT.Server, env: [String: String] = [:]) throws -> String {
        let job = try RT.writeJob(in: dir, name: name, server: server, command: ["python3", "task.py", "{task}", "{task_kind}"],
                                  env: env, files: ["task.py": executor])
        try FileManager.default.createDirectory(atPath: job + "/models", withIntermediateDirectories: true)
        try RT.writeModel(job + "/models/initial.safetensors", tensors: [("w", [1, 2])])
        return job
    }

    static func score(_ result: EvaluationResult?) -> Double? { result?.metrics?["score"] }

    /// fedopt with `sgd`, lr 1 and no momentum steps to the average: the same models as fedavg.
    @Test(arguments: ["fedavg", "fedopt"])
    func evaluateEveryEvaluatesTheGlobalModelOfEveryNthRoundAtEverySite(workflow: String) throws {
        let dir = try RT.temporaryDirectory("evaluate-every")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try Self.writeJob(in: dir, name: "evaluate-every", server: .init(workflow: workflow, rounds: 4, extra: """
        initial_model: models/initial.safetensors
        evaluate_every: 2
        """ + (workflow == "fedopt" ? "\nserver_optimizer: {name: sgd, lr: 1}" : "")))
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        // Each round adds the mean of 1 and 2 (equal samples) to both weights: sum 3 → 6, 9, 12, 15.
        #expect(run.rounds.map { $0.evaluation != nil } == [false, true, false, true])
        for (round, sum) in [(2, 9.0), (4, 15.0)] {
            let evaluation = try #require(run.rounds.first { $0.round == round }?.evaluation)
            #expect(Self.score(evaluation.sites["site-1"]) == sum + 100, "round \(round): \(evaluation)")
            #expect(Self.score(evaluation.sites["site-2"]) == sum + 200, "round \(round): \(evaluation)")
            #expect(evaluation.sites["site-2"]?.numSamples == 20)
            // Weighted by the evaluated samples: (10·(sum+100) + 20·(sum+200)) / 30.
            let aggregate = try #require(evaluation.aggregate["score"])
            #expect(abs(aggregate - (sum + 500.0 / 3)) < 1e-9, "\(aggregate)")
        }
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run.paths.metrics))) as? [String: Any]
        let rounds = try #require(metrics?["rounds"] as? [[String: Any]])
        #expect(rounds.map { $0["evaluation"] != nil } == [false, true, false, true])
        // TensorBoard: the evaluations as eval/score in each site's run and in the aggregate.
        for name in ["site-1", "site-2", "aggregate"] {
            let folder = run.paths.directory + "/tensorboard/" + name
            let file = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasPrefix("events.out.tfevents.") })
            let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file))
            #expect(bytes.range(of: Data("eval/score".utf8)) != nil, "\(name): no eval/score scalar")
        }
    }

    static let crossSite = RT.Server(workflow: "cross-site-eval", rounds: 1, extra: "initial_model: models/initial.safetensors")

    /// The expected score of site-`data` evaluating `model`: the global model's weights sum to 3, site-N's
    /// local model (trained from it) to 3 + 2N.
    static func expected(data: Int, model: String) -> Double {
        (model == "global" ? 3 : 3 + 2 * Double(model.split(separator: "-").last.flatMap { Double($0) } ?? 0)) + 100 * Double(data)
    }

    @Test func crossSiteEvalProducesTheFullMatrix() throws {
        let dir = try RT.temporaryDirectory("cross-site")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try Self.writeJob(in: dir, name: "cross-site", server: Self.crossSite)
        let fed = try RT.federation(in: dir, clients: 3)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        let matrix = try #require(run.crossSiteEval)
        #expect(matrix.sites == ["site-1", "site-2", "site-3"])
        #expect(matrix.models.map(\.name) == ["global", "site-1", "site-2", "site-3"])
        #expect(matrix.models.map(\.source) == ["global", "local", "local", "local"])
        for (row, site) in matrix.sites.enumerated() {
            for model in matrix.models {
                let cell = matrix.results[site]?[model.name]
                #expect(cell?.status == "ok", "\(site) × \(model.name): \(String(describing: cell))")
                #expect(Self.score(cell) == Self.expected(data: row + 1, model: model.name), "\(site) × \(model.name)")
                #expect(cell?.numSamples == 10 * (row + 1))
            }
        }
        // The round record keeps each site's submission; the final model is the global model evaluated.
        #expect(run.rounds.count == 1 && run.rounds[0].workflow == "cross-site-eval")
        #expect(run.rounds[0].clients["site-2"]?.metrics?["loss"] == 7)
        #expect(run.finalModel != nil)
        let csv = matrix.csv.split(separator: "\n")
        #expect(csv.first == "site,model,status,num_samples,score,error")
        #expect(csv.contains("site-2,site-3,ok,20,209.0,"), "\(matrix.csv)")
        #expect(csv.count == 1 + 3 * 4)
    }

    @Test func aSiteFailingAnEvaluationOrItsSubmissionLeavesMissingCellsWithTheReason() throws {
        let dir = try RT.temporaryDirectory("cross-site-fail")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var server = Self.crossSite
        server.minClients = 1
        let job = try Self.writeJob(in: dir, name: "cross-site-fail", server: server,
                                    env: ["EVAL_FAIL_SITE": "site-1", "TRAIN_FAIL_SITE": "site-2"])
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        let matrix = try #require(run.crossSiteEval)
        #expect(matrix.models.map(\.name) == ["global", "site-1", "site-2"])
        #expect(matrix.models[2].status == "failed" && matrix.models[2].error?.contains("training refused at site-2") == true,
                "\(matrix.models[2])")
        for model in ["global", "site-1"] {
            let failed = matrix.results["site-1"]?[model]
            #expect(failed?.status == "failed" && failed?.error?.contains("evaluation refused at site-1") == true, "\(String(describing: failed))")
            #expect(Self.score(matrix.results["site-2"]?[model]) == Self.expected(data: 2, model: model))
        }
        for site in ["site-1", "site-2"] {
            let missing = matrix.results[site]?["site-2"]
            #expect(missing?.status == "missing" && missing?.error?.contains("site-2 submitted no local model") == true)
        }
        #expect(matrix.text.contains("missing: site-1 × global: failed: "), "\(matrix.text)")
        #expect(JobSummary.text(run).contains("cross-site evaluation: score"))
    }

    @Test func aServerKilledMidEvaluationResumesTheMatrix() throws {
        let dir = try RT.temporaryDirectory("cross-site-restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gate = dir + "/gate"
        let job = try Self.writeJob(in: dir, name: "cross-site-restart", server: Self.crossSite,
                                    env: ["EVAL_GATE_SITE": "site-2", "EVAL_GATE": gate])
        let fed = try RT.federation(in: dir)
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let runtime = try fed.run(id).paths.directory + "/runtime/round-0001"
        // site-1 has evaluated the global model; site-2 holds its evaluation until the gate opens.
        let deadline = ContinuousClock.now + RT.failsafe
        while !FileManager.default.fileExists(atPath: runtime + "/eval-global/site-1.json"), ContinuousClock.now < deadline {
            usleep(20_000)
        }
        try #require(FileManager.default.fileExists(atPath: runtime + "/eval-global/site-1.json"))
        let server = try #require(fed.watcher("server"))
        server.send(SIGKILL)
        #expect(server.wait(timeout: .seconds(120)))
        try fed.restart("server")
        #expect(FileManager.default.createFile(atPath: gate, contents: Data()))
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        let matrix = try #require(run.crossSiteEval)
        for (row, site) in matrix.sites.enumerated() {
            for model in matrix.models {
                #expect(Self.score(matrix.results[site]?[model.name]) == Self.expected(data: row + 1, model: model.name), "\(site) × \(model.name)")
            }
        }
    }
}
