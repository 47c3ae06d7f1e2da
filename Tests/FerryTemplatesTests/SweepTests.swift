import FerryQuant
import FerryJobs
import Foundation
import Testing
@testable import FerryTemplates

@Suite struct SweepTests {
    @Test func fourCombinationsRenderFourValidJobs() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let template = try TemplateFixtures.builtIn("fedavg")
        let axes = try [SweepAxis.parse("quantization=fp16,nf4"), SweepAxis.parse("rounds=3,5")]
        let jobs = try TemplateRenderer(template: template)
            .renderSweep(into: root + "/sweep", assignments: [.init(name: "clients", value: "3")], sweep: axes)
        let expected = ["quantization-fp16_rounds-3", "quantization-fp16_rounds-5", "quantization-nf4_rounds-3", "quantization-nf4_rounds-5"]
        #expect(jobs.map { ($0.directory as NSString).lastPathComponent } == expected)
        #expect(TemplateFixtures.contents(root + "/sweep") == expected)
        #expect(TemplateFixtures.contents(root) == ["sweep"])
        for folder in expected {
            let job = try JobFolder.load(directory: root + "/sweep/" + folder)
            let parts = folder.split(separator: "_").map { $0.split(separator: "-", maxSplits: 1).map(String.init) }
            let quant = QuantFormat(rawValue: parts[0][1])
            #expect(job.serverApp.filters.toClients == quant)
            #expect(job.clientApps["client"]?.filters.toServer == quant)
            #expect(job.serverApp.rounds == Int(parts[1][1]))
            #expect(job.namedClientSites.count == 3)
            #expect(job.definition.name == "sweep-" + folder)
        }
        #expect(jobs[3].sweepValues == [.init(name: "quantization", value: "nf4"), .init(name: "rounds", value: "5")])
    }

    @Test func oneBadCombinationWritesNothing() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let template = try TemplateFixtures.builtIn("fedavg")
        #expect {
            _ = try TemplateRenderer(template: template)
                .renderSweep(into: root + "/sweep", assignments: [], sweep: [try SweepAxis.parse("chunk=8MiB,1KiB")])
        } throws: { error in
            if case .invalidRenderedJob? = error as? TemplateError { return true }
            return false
        }
        #expect(TemplateFixtures.contents(root).isEmpty)
    }

    @Test func sweepValuesAreTypeChecked() throws {
        let template = try TemplateFixtures.builtIn("fedavg")
        let plan = try SweepPlan(axes: [try SweepAxis.parse("rounds=3,x")], template: template, fixed: [])
        #expect(plan.combinations.count == 2)
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        #expect {
            _ = try TemplateRenderer(template: template).renderSweep(into: root + "/s", assignments: [], sweep: [try SweepAxis.parse("rounds=3,x")])
        } throws: { error in
            if case .invalidValue(variable: "rounds", value: "x", _, _)? = error as? TemplateError { return true }
            return false
        }
        #expect(TemplateFixtures.contents(root).isEmpty)
    }

    @Test func sweepRefusals() throws {
        let template = try TemplateFixtures.builtIn("fedavg")
        #expect(throws: TemplateError.sweepOverList(variable: "clients")) {
            _ = try SweepPlan(axes: [try SweepAxis.parse("clients=2,3")], template: template, fixed: [])
        }
        #expect(throws: TemplateError.duplicateVariable(name: "rounds")) {
            _ = try SweepPlan(axes: [try SweepAxis.parse("rounds=2,3")], template: template, fixed: [.init(name: "rounds", value: "4")])
        }
        #expect(throws: TemplateError.sweepNameCollision(name: "round_timeout-1-")) {
            _ = try SweepPlan(axes: [try SweepAxis.parse("round_timeout=1?,1*")], template: template, fixed: [])
        }
        #expect(throws: TemplateError.self) { _ = try SweepPlan(axes: [try SweepAxis.parse("roundz=1,2")], template: template, fixed: []) }
        #expect(throws: TemplateError.malformedAssignment(text: "rounds=", option: "--sweep")) { _ = try SweepAxis.parse("rounds=") }
        #expect(throws: TemplateError.malformedAssignment(text: "rounds=1,,2", option: "--sweep")) { _ = try SweepAxis.parse("rounds=1,,2") }
    }
}
