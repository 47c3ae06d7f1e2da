import Foundation
import Testing
import FerryJobs

/// nf4-dq and fp4-dq are filter formats like the others: accepted, and suggested for near misses.
@Suite struct DoubleQuantFilterTests {
    @Test func doubleQuantizedFiltersAreAccepted() throws {
        let job = try JobFixture([
            "apps/server/app.yaml": "workflow: fedavg\nrounds: 2\nfilters:\n  to_clients: nf4-dq\n",
            "apps/client/app.yaml": "executor:\n  command: [train]\nfilters:\n  to_server: fp4-dq\n",
        ])
        defer { job.remove() }
        let folder = try JobFolder.load(directory: job.directory)
        #expect(folder.serverApp.filters.toClients?.rawValue == "nf4-dq")
        #expect(folder.clientApps.values.map { $0.filters.toServer?.rawValue } == ["fp4-dq"])
    }

    @Test func nearMissesSuggestTheDoubleQuantizedFormat() throws {
        let d = try JobFixture.diagnostics([
            "apps/server/app.yaml": "workflow: fedavg\nrounds: 2\nfilters:\n  to_clients: nf4dq\n",
            "apps/client/app.yaml": "executor:\n  command: [train]\nfilters:\n  to_server: fp4_dq\n",
        ])
        expectDiagnostic(d, "apps/server/app.yaml", 4, 15, "'filters.to_clients' must be one of none, fp16, bf16, blockwise8, fp4, nf4, fp4-dq, nf4-dq",
                         hint: "did you mean 'nf4-dq'?")
        expectDiagnostic(d, "apps/client/app.yaml", 4, 14, "'filters.to_server' must be one of", hint: "did you mean 'fp4-dq'?")
    }
}
