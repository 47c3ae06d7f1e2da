import FerryJobs
import Foundation
import Testing

/// `executor.persistent` and `executor.restarts` of a client app.
@Suite struct PersistentExecutorConfigTests {
    @Test func persistentDecodesWithItsRestarts() throws {
        let job = try JobFixture(["apps/client/app.yaml": "executor:\n  command: [train, \"{site}\"]\n  persistent: true\n"])
        defer { job.remove() }
        let executor = try #require(try JobFolder.load(directory: job.directory).clientApps["client"]).executor
        #expect(executor.persistent == PersistentExecutorSettings(restarts: 3))

        let bounded = try JobFixture(["apps/client/app.yaml": "executor:\n  command: [train]\n  persistent: true\n  restarts: 0\n"])
        defer { bounded.remove() }
        #expect(try JobFolder.load(directory: bounded.directory).clientApps["client"]?.executor.persistent?.restarts == 0)

        let plain = try JobFixture(["apps/client/app.yaml": "executor:\n  command: [train]\n  persistent: false\n"])
        defer { plain.remove() }
        #expect(try JobFolder.load(directory: plain.directory).clientApps["client"]?.executor.persistent == nil)
    }

    @Test func incompatibleSettingsAreErrorsThatSaySo() throws {
        let slurm = try JobFixture.diagnostics(["apps/client/app.yaml": "executor:\n  command: [train]\n  launcher: slurm\n  persistent: true\n"])
        expectDiagnostic(slurm, "apps/client/app.yaml", 4, 3, "`persistent: true` works only with the local launcher, not with `launcher: slurm`",
                         hint: "each Slurm task is a batch job of its own")

        let placeholder = try JobFixture.diagnostics(["apps/client/app.yaml": """
            executor:
              command: [train, --input, "{input_model}", --site, "{site}"]
              env:
                ROUND: "{round}"
              persistent: true
            """])
        expectDiagnostic(placeholder, "apps/client/app.yaml", 5, 3, "cannot use the task placeholder '{input_model}'",
                         hint: "ferry.receive()")
        expectDiagnostic(placeholder, "apps/client/app.yaml", 5, 3, "cannot use the task placeholder '{round}'")
        #expect(!placeholder.contains { $0.message.contains("'{site}'") }, "{site} is the job's, allowed: \(placeholder)")

        let restarts = try JobFixture.diagnostics(["apps/client/app.yaml": "executor:\n  command: [train]\n  restarts: 2\n"])
        expectDiagnostic(restarts, "apps/client/app.yaml", 3, 3, "'executor.restarts' applies only to `persistent: true`")

        let word = try JobFixture.diagnostics(["apps/client/app.yaml": "executor:\n  command: [train]\n  persistent: always\n"])
        expectDiagnostic(word, "apps/client/app.yaml", 3, 15, "'executor.persistent' must be true or false, found 'always'")

        let range = try JobFixture.diagnostics(["apps/client/app.yaml": "executor:\n  command: [train]\n  persistent: true\n  restarts: 1000\n"])
        expectDiagnostic(range, "apps/client/app.yaml", 4, 13, "'executor.restarts' is 1000, outside 0...100")
    }
}
