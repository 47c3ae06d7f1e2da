import Foundation
import Testing
import FerryJobs

/// Issue 17: fedprox's `mu` and scaffold's `server_lr` in the server app, and the settings refused with them.
@Suite struct DriftCorrectionConfigTests {
    static let client = "executor:\n  command: [train]\n"

    @Test func fedproxAndScaffoldLoadTyped() throws {
        let prox = try JobFixture(["apps/server/app.yaml": "workflow: fedprox\nrounds: 2\nmu: 0.01\naggregator: median\n",
                                   "apps/client/app.yaml": Self.client])
        defer { prox.remove() }
        let server = try JobFolder.load(directory: prox.directory).serverApp
        #expect(server.workflow == .fedprox && server.mu == 0.01 && server.serverLearningRate == nil)
        let scaffold = try JobFixture([
            "apps/server/app.yaml": "workflow: scaffold\nrounds: 2\ninitial_model: models/initial.safetensors\nserver_lr: 0.5\n",
            "apps/client/app.yaml": Self.client,
            "models/initial.safetensors": "not read at validation",
        ])
        defer { scaffold.remove() }
        let app = try JobFolder.load(directory: scaffold.directory).serverApp
        #expect(app.workflow == .scaffold && app.serverLearningRate == 0.5 && app.mu == nil)
    }

    @Test func badValuesAreRefusedWithFileLineAndField() throws {
        let prox = try JobFixture.diagnostics([
            "apps/server/app.yaml": "workflow: fedprox\nrounds: 2\nmu: -0.1\nserver_lr: 2\nround_config:\n  fedprox_mu: 1\n",
            "apps/client/app.yaml": Self.client,
        ])
        expectDiagnostic(prox, "apps/server/app.yaml", 3, 5, "'mu' is -0.1, outside 0.0...1000000.0")
        expectDiagnostic(prox, "apps/server/app.yaml", 4, 1, "'server_lr' applies only to `workflow: scaffold`")
        expectDiagnostic(prox, "apps/server/app.yaml", 6, 3, "'round_config.fedprox_mu' is set by fedprox from `mu`")
        let missing = try JobFixture.diagnostics(["apps/server/app.yaml": "workflow: fedprox\nrounds: 2\n",
                                                  "apps/client/app.yaml": Self.client])
        expectDiagnostic(missing, "apps/server/app.yaml", 1, 1, "missing required key 'mu'", hint: "mu: 0.01")
        let scaffold = try JobFixture.diagnostics([
            "apps/server/app.yaml": "workflow: scaffold\nrounds: 2\norder: shuffle\naggregator: median\nmax_update_norm: 3\nmu: 0.1\nserver_lr: 0\n",
            "apps/client/app.yaml": Self.client,
        ])
        expectDiagnostic(scaffold, "apps/server/app.yaml", 3, 1, "'order' applies only to `workflow: cyclic`")
        expectDiagnostic(scaffold, "apps/server/app.yaml", 4, 1, "'aggregator' does not apply to `workflow: scaffold`")
        expectDiagnostic(scaffold, "apps/server/app.yaml", 5, 1, "'max_update_norm' does not apply to `workflow: scaffold`")
        expectDiagnostic(scaffold, "apps/server/app.yaml", 6, 1, "'mu' applies only to `workflow: fedprox`")
        expectDiagnostic(scaffold, "apps/server/app.yaml", 7, 12, "'server_lr' is 0.0, outside")
        expectDiagnostic(scaffold, "apps/server/app.yaml", 1, 1, "`workflow: scaffold` needs `initial_model`")
    }
}
