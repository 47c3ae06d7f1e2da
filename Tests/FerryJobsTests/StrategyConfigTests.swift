import Foundation
import Testing
import FerryAggregation
import FerryJobs

/// Issue 17: `aggregator`, `trim`, `max_update_norm` and fedopt's `server_optimizer` in the server app.
@Suite struct StrategyConfigTests {
    static let client = "executor:\n  command: [train]\n"

    @Test func fedoptWithARobustAggregatorLoadsTyped() throws {
        let job = try JobFixture([
            "apps/server/app.yaml": """
            workflow: fedopt
            rounds: 2
            initial_model: models/initial.safetensors
            aggregator: trimmed-mean
            trim: 1
            max_update_norm: 5.5
            server_optimizer: {name: adam, lr: 0.01, betas: [0.8, 0.9], eps: 0.0001}

            """,
            "apps/client/app.yaml": Self.client,
            "models/initial.safetensors": "not read at validation",
        ])
        defer { job.remove() }
        let server = try JobFolder.load(directory: job.directory).serverApp
        #expect(server.workflow == .fedopt)
        #expect(server.aggregation == RobustAggregation(rule: .trimmedMean(trim: 1), maxUpdateNorm: 5.5))
        #expect(server.serverOptimizer == ServerOptimizer(name: .adam, lr: 0.01, beta1: 0.8, beta2: 0.9, eps: 0.0001))
    }

    @Test func fedavgDefaultsToTheWeightedMean() throws {
        let job = try JobFixture(["apps/server/app.yaml": "workflow: fedavg\nrounds: 1\naggregator: median\n",
                                  "apps/client/app.yaml": Self.client])
        defer { job.remove() }
        #expect(try JobFolder.load(directory: job.directory).serverApp.aggregation == RobustAggregation(rule: .median))
    }

    @Test func inconsistentStrategiesAreRefusedWithAFix() throws {
        let d = try JobFixture.diagnostics([
            "apps/server/app.yaml": "workflow: fedopt\nrounds: 2\naggregator: trimmed-mean\nserver_optimizer:\n  name: adamw\n  momentum: 0.9\n",
            "apps/client/app.yaml": Self.client,
        ])
        expectDiagnostic(d, "apps/server/app.yaml", 3, 1, "`aggregator: trimmed-mean` needs `trim`", hint: "trim: 1")
        expectDiagnostic(d, "apps/server/app.yaml", 5, 9, "'server_optimizer.name' must be one of sgd, adam, yogi, adagrad",
                         hint: "did you mean 'adam'?")
        expectDiagnostic(d, "apps/server/app.yaml", 5, 3, "missing required key 'lr' in 'server_optimizer'", hint: "lr: 0.01")
        expectDiagnostic(d, "apps/server/app.yaml", 6, 3, "'server_optimizer.momentum' applies only to `name: sgd`")
        expectDiagnostic(d, "apps/server/app.yaml", 1, 1, "`workflow: fedopt` needs `initial_model`")
        let cyclic = try JobFixture.diagnostics([
            "apps/server/app.yaml": "workflow: cyclic\nrounds: 2\naggregator: median\nserver_optimizer: {name: sgd, lr: 1}\n",
            "apps/client/app.yaml": Self.client,
        ])
        expectDiagnostic(cyclic, "apps/server/app.yaml", 3, 1, "'aggregator' does not apply to `workflow: cyclic`")
        expectDiagnostic(cyclic, "apps/server/app.yaml", 4, 1, "'server_optimizer' applies only to `workflow: fedopt`")
    }
}
