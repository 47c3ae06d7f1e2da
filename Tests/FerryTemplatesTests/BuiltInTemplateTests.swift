import FerryJobs
import Foundation
import Testing
@testable import FerryTemplates

@Suite struct BuiltInTemplateTests {
    @Test(arguments: TemplateFixtures.builtInNames)
    func rendersWithDefaultsAndValidates(name: String) throws {
        let template = try TemplateFixtures.builtIn(name)
        #expect(!template.description.isEmpty)
        #expect(template.variables.allSatisfy { !$0.help.isEmpty })
        for required in ["rounds", "min_clients", "clients", "to_clients", "to_server", "transfer_mode", "chunk", "task_timeout"] {
            #expect(template.variable(named: required) != nil, "template \(name) lacks \(required)")
        }
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let out = (root as NSString).appendingPathComponent("job-\(name)")
        let rendered = try TemplateRenderer(template: template).render(into: out, assignments: [])
        let job = try JobFolder.load(directory: out)
        let defaultRounds = try #require(template.variable(named: "rounds")).defaultText
        #expect(job.serverApp.rounds == Int(defaultRounds))
        #expect(job.definition.name == "job-\(name)")
        #expect(rendered.job.namedClientSites.count == job.definition.minClients)
        // Nothing but the job folder is left in the parent (no staging folder).
        #expect(TemplateFixtures.contents(root) == ["job-\(name)"])
        // No mustache tag survives.
        let files = FileManager.default.enumerator(atPath: out)?.allObjects as? [String] ?? []
        for file in files where file.hasSuffix(".yaml") {
            let text = try String(contentsOfFile: (out as NSString).appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("{{"), "\(name)/\(file) still holds a mustache tag")
        }
    }

    @Test func setValuesReachTheJob() throws {
        let template = try TemplateFixtures.builtIn("fedavg")
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let out = (root as NSString).appendingPathComponent("tuned")
        let assignments = try ["rounds=7", "clients=4", "to_server=nf4", "chunk=1MiB", "transfer_mode=file", "round_timeout=1h30m"]
            .map { text throws(TemplateError) in try TemplateAssignment.parse(text) }
        let job = try TemplateRenderer(template: template).render(into: out, assignments: assignments).job
        #expect(job.serverApp.rounds == 7)
        #expect(job.namedClientSites == ["site-1", "site-2", "site-3", "site-4"])
        #expect(job.definition.minClients == 4)
        #expect(job.serverApp.roundTimeout == .seconds(5400))
        let client = try #require(job.clientApps["client"])
        #expect(client.filters.toServer == .nf4)
        #expect(job.serverApp.filters.toClients == .fp16)
        #expect(client.transfer.chunkSize == 1 << 20)
        #expect(client.transfer.mode == .file)
    }

    @Test func quantizationSetsBothDirectionsUnlessOneIsGiven() throws {
        let template = try TemplateFixtures.builtIn("fedavg")
        let both = try TemplateValues(template: template, assignments: [.init(name: "quantization", value: "nf4")])
        #expect(both.values["to_clients"] == .string("nf4"))
        #expect(both.values["to_server"] == .string("nf4"))
        let mixed = try TemplateValues(template: template, assignments: [.init(name: "quantization", value: "nf4"),
                                                                         .init(name: "to_server", value: "bf16")])
        #expect(mixed.values["to_clients"] == .string("nf4"))
        #expect(mixed.values["to_server"] == .string("bf16"))
    }

    @Test func clientNamesGiveTheDeployList() throws {
        let template = try TemplateFixtures.builtIn("cyclic")
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let out = (root as NSString).appendingPathComponent("named")
        let job = try TemplateRenderer(template: template)
            .render(into: out, assignments: [.init(name: "clients", value: "alpha,beta"), .init(name: "order", value: "shuffle"),
                                             .init(name: "seed", value: "42")]).job
        #expect(job.namedClientSites == ["alpha", "beta"])
        #expect(job.serverApp.workflow == .cyclic)
        #expect(job.serverApp.order == .shuffle)
        #expect(job.serverApp.seed == 42)
    }

    @Test func pythonScriptKeepsItsExecutableBit() throws {
        let template = try TemplateFixtures.builtIn("fedavg-python")
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let out = (root as NSString).appendingPathComponent("py")
        _ = try TemplateRenderer(template: template).render(into: out, assignments: [])
        let script = (out as NSString).appendingPathComponent("apps/client/custom/train.py")
        #expect(FileManager.default.isExecutableFile(atPath: script))
        let source = (TemplateFixtures.builtInFolder as NSString).appendingPathComponent("fedavg-python/job/apps/client/custom/train.py")
        #expect(FileManager.default.contents(atPath: script) == FileManager.default.contents(atPath: source))
    }
}
