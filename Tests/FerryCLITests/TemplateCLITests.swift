import Foundation
import Testing

@Suite struct TemplateCLITests {
    private static let builtIns = ["cyclic", "fedavg", "fedavg-python", "llm-sft"]

    /// A small template written by the test: `name` with one int variable `rounds`.
    private func writeTemplate(named name: String, in parent: URL) throws {
        let folder = parent.appendingPathComponent(name)
        let files = [
            "template.yaml": """
            name: \(name)
            description: A user template for the tests.
            variables:
              rounds:
                type: int
                default: 2
                min: 1
                help: Rounds to run.
            """,
            "job/job.yaml.mustache": "name: {{job_name}}\nmin_clients: 1\ndeploy:\n  server: [server]\n  client: all\n",
            "job/apps/server/app.yaml.mustache": "workflow: fedavg\nrounds: {{rounds}}\n",
            "job/apps/client/app.yaml": "executor:\n  command: [echo, \"{site}\"]\n",
        ]
        for (path, text) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
    }

    @Test func listsBuiltInTemplatesWithDescriptions() throws {
        // Run from a folder outside the repository: the built-in folder is found from the executable.
        let dir = try FerryCLI.temporaryDirectory("tpl")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try FerryCLI.run(["job", "templates"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        for name in Self.builtIns { #expect(r.stdout.contains(name)) }
        #expect(r.stdout.contains("Cyclic weight transfer"))
        #expect(r.stdout.contains("built-in"))
    }

    @Test func showsVariablesWithTypeDefaultAndHelp() throws {
        let r = try FerryCLI.run(["job", "templates", "fedavg"])
        #expect(r.status == 0, "\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("rounds ") })
        #expect(line.contains("int 1...100000") && line.hasSuffix(" 3"))
        #expect(r.stdout.contains("Rounds of federated averaging."))
        #expect(r.stdout.contains("enum(none|fp16|bf16|blockwise8|fp4|nf4|fp4-dq|nf4-dq)"))
        #expect(r.stdout.contains("same as quantization"))
        let unknown = try FerryCLI.run(["job", "templates", "fedavgg"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("did you mean 'fedavg'?"))
    }

    @Test(arguments: ["cyclic", "fedavg", "fedavg-python", "llm-sft"])
    func createdJobValidates(template: String) throws {
        let dir = try FerryCLI.temporaryDirectory("tpl")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = dir.appendingPathComponent("my-job").path
        let r = try FerryCLI.run(["job", "create", job, "--template", template, "--set", "rounds=4"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("created \(job)"))
        let v = try FerryCLI.run(["job", "validate", job])
        #expect(v.status == 0, "\(v.stderr)")
        #expect(v.stdout.contains("my-job:") && v.stdout.contains("4 rounds"))
    }

    @Test func unknownVariableAndWrongTypeAreUsageErrorsNamingTheVariable() throws {
        let dir = try FerryCLI.temporaryDirectory("tpl")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = dir.appendingPathComponent("j").path
        let unknown = try FerryCLI.run(["job", "create", job, "--template", "fedavg", "--set", "roundz=3"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown variable 'roundz'") && unknown.stderr.contains("did you mean 'rounds'?"))
        let wrong = try FerryCLI.run(["job", "create", job, "--template", "fedavg", "--set", "round_timeout=later"])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("variable 'round_timeout' expects a duration, got 'later'"))
        let sweep = try FerryCLI.run(["job", "create", job, "--template", "fedavg", "--sweep", "rounds=3,many"])
        #expect(sweep.status == 2)
        #expect(sweep.stderr.contains("variable 'rounds'"))
        let malformed = try FerryCLI.run(["job", "create", job, "--template", "fedavg", "--set", "rounds"])
        #expect(malformed.status == 2)
        #expect(FileManager.default.fileExists(atPath: job) == false)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).isEmpty)
    }

    @Test func invalidRenderedJobFailsWithDiagnostics() throws {
        let dir = try FerryCLI.temporaryDirectory("tpl")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = dir.appendingPathComponent("j").path
        let r = try FerryCLI.run(["job", "create", job, "--template", "fedavg", "--set", "chunk=100"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("rendered an invalid job"))
        #expect(r.stderr.contains("\(job)/apps/server/app.yaml:"))
        #expect(!FileManager.default.fileExists(atPath: job))
    }

    @Test func sweepRendersOneValidJobPerCombination() throws {
        let dir = try FerryCLI.temporaryDirectory("tpl")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("sweep")
        let r = try FerryCLI.run(["job", "create", root.path, "--template", "fedavg",
                                  "--sweep", "quantization=fp16,nf4", "--sweep", "rounds=3,5", "--set", "epochs=2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("created 4 jobs"))
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
        #expect(folders == ["quantization-fp16_rounds-3", "quantization-fp16_rounds-5", "quantization-nf4_rounds-3", "quantization-nf4_rounds-5"])
        for folder in folders {
            let path = root.appendingPathComponent(folder).path
            let v = try FerryCLI.run(["job", "validate", path])
            #expect(v.status == 0, "\(v.stderr)")
            let rounds = folder.hasSuffix("5") ? "5" : "3"
            #expect(v.stdout.contains("\(rounds) rounds"))
            let quant = folder.contains("nf4") ? "nf4" : "fp16"
            let server = try String(contentsOfFile: path + "/apps/server/app.yaml", encoding: .utf8)
            let client = try String(contentsOfFile: path + "/apps/client/app.yaml", encoding: .utf8)
            #expect(server.contains("to_clients: \(quant)"))
            #expect(client.contains("to_server: \(quant)"))
            #expect(client.contains("--epochs, \"2\""))
        }
    }

    @Test func userTemplatesFromOptionAndEnvironment() throws {
        let dir = try FerryCLI.temporaryDirectory("tpl")
        defer { try? FileManager.default.removeItem(at: dir) }
        let mine = dir.appendingPathComponent("mine"), env = dir.appendingPathComponent("env")
        try writeTemplate(named: "tiny", in: mine)
        try writeTemplate(named: "fromenv", in: env)

        let listed = try FerryCLI.run(["job", "templates", "--templates", mine.path], environment: ["FERRY_TEMPLATES": env.path])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("tiny") && listed.stdout.contains("fromenv") && listed.stdout.contains("fedavg"))
        #expect(listed.stdout.contains("--templates: \(mine.path)") && listed.stdout.contains("FERRY_TEMPLATES: \(env.path)"))

        let a = dir.appendingPathComponent("a").path
        let byOption = try FerryCLI.run(["job", "create", a, "--template", "tiny", "--templates", mine.path, "--set", "rounds=9"])
        #expect(byOption.status == 0, "\(byOption.stderr)")
        #expect(try String(contentsOfFile: a + "/apps/server/app.yaml", encoding: .utf8).contains("rounds: 9"))

        let b = dir.appendingPathComponent("b").path
        let byEnv = try FerryCLI.run(["job", "create", b, "--template", "fromenv"], environment: ["FERRY_TEMPLATES": env.path])
        #expect(byEnv.status == 0, "\(byEnv.stderr)")
        #expect(FileManager.default.fileExists(atPath: b + "/job.yaml"))

        let missing = try FerryCLI.run(["job", "templates", "--templates", dir.appendingPathComponent("nope").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("does not exist"))
    }
}
