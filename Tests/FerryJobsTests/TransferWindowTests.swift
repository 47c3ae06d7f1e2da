import FerryJobs
import Foundation
import Testing

/// `transfer:` in app.yaml: the window in bytes (`window_bytes`), replacing the chunk window, and the
/// default byte window when neither is given.
@Suite struct TransferWindowTests {
    private func transfer(_ yaml: String) throws -> TransferSettings {
        let job = try JobFixture(["apps/client/app.yaml": "executor:\n  command: [train]\ntransfer:\n" + yaml])
        defer { job.remove() }
        let folder = try JobFolder.load(directory: job.directory)
        guard case .client(let config) = folder.apps["client"] else {
            Issue.record("no client app")
            return .defaults
        }
        return config.transfer
    }

    @Test func neitherWindowNorWindowBytesGivesTheDefaultByteWindow() throws {
        let settings = try transfer("  mode: file\n")
        #expect(settings.windowBytes == 128 << 20)
        #expect(TransferSettings.defaults.windowBytes == 128 << 20)
    }

    @Test func windowAloneIsAChunkWindow() throws {
        let settings = try transfer("  window: 8\n")
        #expect(settings.window == 8)
        #expect(settings.windowBytes == nil)
    }

    @Test func windowBytesReplacesTheChunkWindow() throws {
        #expect(try transfer("  window_bytes: 64MiB\n").windowBytes == 64 << 20)
        let both = try transfer("  window: 2\n  window_bytes: 1GiB\n")
        #expect(both.windowBytes == 1 << 30)
    }

    @Test func badWindowBytesNameTheFileLineAndField() throws {
        let d = try JobFixture.diagnostics([
            "apps/client/app.yaml": "executor:\n  command: [train]\ntransfer:\n  window_bytes: lots\n",
            "apps/server/app.yaml": "workflow: fedavg\nrounds: 2\ntransfer:\n  window_bytes: 1KiB\n",
        ])
        expectDiagnostic(d, "apps/client/app.yaml", 4, 17, "'transfer.window_bytes': invalid size 'lots'", hint: "8MiB")
        expectDiagnostic(d, "apps/server/app.yaml", 4, 17, "'transfer.window_bytes' is 1.00 KiB, outside")
    }
}
