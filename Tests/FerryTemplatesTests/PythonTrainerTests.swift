import FerryJobs
import Foundation
import Testing
@testable import FerryTemplates

/// True when `python3` with `numpy` is available (scripts/ensure-deps.sh installs it best-effort).
private let numpyAvailable: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import numpy"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

/// The fedavg-python template's shipped script honours the executor contract: it runs from the rendered
/// job's command with ferry's placeholders expanded and the contract's variables set (the ferry Python
/// package, found through PYTHONPATH, reads them), and round 2 improves on round 1's model.
@Suite(.enabled(if: numpyAvailable, "needs python3 with numpy (pip install numpy)"))
struct PythonTrainerTests {
    @Test func renderedCommandTrainsTwoRounds() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let out = root + "/py"
        let job = try TemplateRenderer(template: try TemplateFixtures.builtIn("fedavg-python"))
            .render(into: out, assignments: [.init(name: "epochs", value: "10")]).job
        let (app, config) = try #require(job.clientApp(forSite: "site-1", clientSites: job.namedClientSites))
        var mse: [Double] = []
        for round in 1...2 {
            let values = ["input_model": round == 1 ? "" : root + "/model-1.safetensors",
                          "output_model": root + "/model-\(round).safetensors",
                          "result": root + "/result-\(round).json", "site": "site-1", "round": "\(round)"]
            let argv = config.executor.command.map { Placeholders.expand($0, values: values) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = argv
            process.currentDirectoryURL = URL(fileURLWithPath: job.appDirectory(app))
            var env = ProcessInfo.processInfo.environment
            for (k, v) in config.executor.env { env[k] = Placeholders.expand(v, values: values) }
            for (name, key) in [("FERRY_INPUT_MODEL", "input_model"), ("FERRY_OUTPUT_MODEL", "output_model"),
                                ("FERRY_RESULT", "result"), ("FERRY_SITE", "site"), ("FERRY_ROUND", "round")] {
                env[name] = values[key]
            }
            env["PYTHONPATH"] = TemplateFixtures.pythonPackageFolder + (env["PYTHONPATH"].map { ":" + $0 } ?? "")
            process.environment = env
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "round \(round): \(argv)")
            let data = try Data(contentsOf: URL(fileURLWithPath: values["result"]!))
            let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(result["num_samples"] as? Int == 256)
            let metrics = try #require(result["metrics"] as? [String: Double])
            mse.append(try #require(metrics["mse"]))
            // The model file is safetensors: 8-byte little-endian header length, then JSON naming the tensors.
            let model = try Data(contentsOf: URL(fileURLWithPath: values["output_model"]!))
            let headerLength = model.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
            let header = try JSONSerialization.jsonObject(with: model.subdata(in: 8..<(8 + headerLength))) as? [String: Any]
            #expect(Set(header?.keys ?? [:].keys) == ["bias", "weight"])
        }
        #expect(mse[1] < mse[0])
    }
}
