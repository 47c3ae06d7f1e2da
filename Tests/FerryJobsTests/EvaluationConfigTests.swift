import Foundation
import Testing
import FerryJobs

/// Issue 16, evaluation tasks: fedavg's `evaluate_every`, and `workflow: cross-site-eval` with `local_models`.
@Suite struct EvaluationConfigTests {
    static let client = "executor:\n  command: [train]\n"

    @Test func evaluateEveryAndCrossSiteEvalLoadTyped() throws {
        let fedavg = try JobFixture(["apps/server/app.yaml": "workflow: fedavg\nrounds: 6\nevaluate_every: 2\n",
                                     "apps/client/app.yaml": Self.client])
        defer { fedavg.remove() }
        #expect(try JobFolder.load(directory: fedavg.directory).serverApp.evaluateEvery == 2)

        let cross = try JobFixture([
            "apps/server/app.yaml": "workflow: cross-site-eval\ninitial_model: models/initial.safetensors\nlocal_models: none\n",
            "apps/client/app.yaml": Self.client,
            "models/initial.safetensors": "not read at validation",
        ])
        defer { cross.remove() }
        let server = try JobFolder.load(directory: cross.directory).serverApp
        #expect(server.workflow == .crossSiteEval && server.rounds == 1 && !server.localModels && server.evaluateEvery == nil)
    }

    @Test func badEvaluateEveryValuesNameTheFileLineAndField() throws {
        let cases: [(yaml: String, line: Int, column: Int, message: String, hint: String)] = [
            ("workflow: fedavg\nrounds: 3\nevaluate_every: 0\n", 3, 17, "'evaluate_every' is 0, outside 1...100000", "from 1"),
            ("workflow: fedavg\nrounds: 3\nevaluate_every: two\n", 3, 17, "'evaluate_every' must be a whole number, found 'two'", "evaluate_every: 1"),
            ("workflow: fedavg\nrounds: 3\nevaluate_every: 4\n", 3, 17, "'evaluate_every' is 4 but the job runs 3 round(s)", "from 1 to 3"),
            ("workflow: cyclic\nrounds: 3\nevaluate_every: 1\n", 3, 1, "'evaluate_every' applies only to `workflow: fedavg`", "remove"),
        ]
        for c in cases {
            let d = try JobFixture.diagnostics(["apps/server/app.yaml": c.yaml, "apps/client/app.yaml": Self.client])
            expectDiagnostic(d, "apps/server/app.yaml", c.line, c.column, c.message, hint: c.hint)
        }
    }

    @Test func crossSiteEvalRulesAreExplained() throws {
        let d = try JobFixture.diagnostics([
            "apps/server/app.yaml": "workflow: cross-site-eval\nrounds: 3\nlocal_models: none\naggregator: median\nevaluate_every: 1\n",
            "apps/client/app.yaml": Self.client,
        ])
        expectDiagnostic(d, "apps/server/app.yaml", 2, 9, "`workflow: cross-site-eval` runs once: 'rounds' must be 1, found 3")
        expectDiagnostic(d, "apps/server/app.yaml", 3, 1, "`local_models: none` leaves nothing to evaluate without `initial_model`",
                         hint: "initial_model")
        expectDiagnostic(d, "apps/server/app.yaml", 4, 1, "'aggregator' does not apply to `workflow: cross-site-eval`")
        expectDiagnostic(d, "apps/server/app.yaml", 5, 1, "'evaluate_every' applies only to `workflow: fedavg`",
                         hint: "cross-site-eval evaluates every model once")
        let fedavg = try JobFixture.diagnostics(["apps/server/app.yaml": "workflow: fedavg\nrounds: 1\nlocal_models: train\n",
                                                 "apps/client/app.yaml": Self.client])
        expectDiagnostic(fedavg, "apps/server/app.yaml", 3, 1, "'local_models' applies only to `workflow: cross-site-eval`")
    }
}
