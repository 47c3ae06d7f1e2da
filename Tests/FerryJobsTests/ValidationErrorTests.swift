import Foundation
import Testing
import FerryJobs

/// Each validation error kind, located by file, line and column, with its hint.
@Suite struct ValidationErrorTests {
    @Test func validFixtureLoadsWithParsedDurationsAndSizes() throws {
        let job = try JobFixture()
        defer { job.remove() }
        let folder = try JobFolder.load(directory: job.directory)
        #expect(folder.serverApp.roundTimeout == .seconds(5400))
        #expect(folder.serverApp.transfer.chunkSize == 512 * 1024)
        #expect(folder.clientApps["client"]?.executor.timeout == .seconds(90))
        #expect(folder.definition.deploy.map(\.app) == ["server", "client"])
        #expect(folder.definition.deploy.map(\.target) == [.sites(["server"]), .all])
    }

    @Test func unknownKeysGetDidYouMean() throws {
        let job = try JobFixture([
            "job.yaml": "name: t\nmin_client: 2\ndeploy:\n  server: [server]\n  client: all\n",
            "apps/client/app.yaml": "executor:\n  command: [train]\n  timout: 90s\n",
        ])
        defer { job.remove() }
        let d = job.diagnostics()
        expectDiagnostic(d, "job.yaml", 2, 1, "unknown key 'min_client'", hint: "did you mean 'min_clients'?")
        expectDiagnostic(d, "apps/client/app.yaml", 3, 3, "unknown key 'timout' in 'executor'", hint: "did you mean 'timeout'?")
        // A word close to nothing lists the allowed keys instead.
        let other = try JobFixture(["job.yaml": "name: t\nmin_clients: 2\nzzzzzzzz: 1\ndeploy:\n  server: [server]\n  client: all\n"])
        defer { other.remove() }
        expectDiagnostic(other.diagnostics(), "job.yaml", 3, 1, "unknown key 'zzzzzzzz'", hint: "allowed keys: name, description")
    }

    @Test func wrongTypesAreReportedAtTheValue() throws {
        let job = try JobFixture([
            "apps/server/app.yaml": "workflow: fedavg\nrounds: three\nmin_clients: [1, 2]\n",
            "apps/client/app.yaml": "executor: [train]\n",
        ])
        defer { job.remove() }
        let d = job.diagnostics()
        expectDiagnostic(d, "apps/server/app.yaml", 2, 9, "'rounds' must be a whole number, found 'three'")
        expectDiagnostic(d, "apps/server/app.yaml", 3, 14, "'min_clients' must be a whole number, found a list")
        expectDiagnostic(d, "apps/client/app.yaml", 1, 11, "'executor' must be a mapping")
    }

    @Test func outOfRangeAndUnknownChoicesAreReported() throws {
        let job = try JobFixture([
            "apps/server/app.yaml": "workflow: fedavgg\nrounds: 0\nfilters:\n  to_clients: nf5\n",
        ])
        defer { job.remove() }
        let d = job.diagnostics()
        expectDiagnostic(d, "apps/server/app.yaml", 1, 11, "'workflow' must be one of fedavg, cyclic", hint: "did you mean 'fedavg'?")
        expectDiagnostic(d, "apps/server/app.yaml", 2, 9, "'rounds' is 0, outside 1...100000")
        expectDiagnostic(d, "apps/server/app.yaml", 4, 15, "'filters.to_clients' must be one of")
    }

    @Test func badDurationsAndSizesAreReported() throws {
        let job = try JobFixture([
            "apps/server/app.yaml": "workflow: fedavg\nrounds: 2\nround_timeout: 10 minutes\ntransfer:\n  chunk: eight\n  window: 4\n",
            "apps/client/app.yaml": "executor:\n  command: [train]\n  timeout: 0s\ntransfer:\n  chunk: 1KiB\n",
        ])
        defer { job.remove() }
        let d = job.diagnostics()
        expectDiagnostic(d, "apps/server/app.yaml", 3, 16, "'round_timeout': invalid duration '10 minutes'", hint: "1h30m")
        expectDiagnostic(d, "apps/server/app.yaml", 5, 10, "'transfer.chunk': invalid size 'eight'", hint: "512KiB")
        expectDiagnostic(d, "apps/client/app.yaml", 3, 12, "'executor.timeout' is 0ms, outside")
        expectDiagnostic(d, "apps/client/app.yaml", 5, 10, "'transfer.chunk' is 1.00 KiB, outside")
    }

    @Test func deployWithoutAServerApp() throws {
        let job = try JobFixture(["job.yaml": "name: t\nmin_clients: 2\ndeploy:\n  client: all\n"])
        defer { job.remove() }
        let d = job.diagnostics()
        expectDiagnostic(d, "job.yaml", 4, 3, "no app is deployed to the site 'server'", hint: "server: [server]")
        expectDiagnostic(d, "job.yaml", 3, 1, "app folder apps/server/ is not deployed to any site")
    }

    @Test func deployWithTwoServerApps() throws {
        let job = try JobFixture([
            "job.yaml": "name: t\nmin_clients: 2\ndeploy:\n  server: [server]\n  backup: [server]\n  client: all\n",
            "apps/backup/app.yaml": "workflow: cyclic\nrounds: 1\n",
        ])
        defer { job.remove() }
        expectDiagnostic(job.diagnostics(), "job.yaml", 5, 3, "app 'backup' is also deployed to 'server', which already runs 'server'")
        // A server app on client sites is refused too.
        let moved = try JobFixture([
            "job.yaml": "name: t\nmin_clients: 2\ndeploy:\n  server: [server]\n  backup: [site-1]\n  client: all\n",
            "apps/backup/app.yaml": "workflow: cyclic\nrounds: 1\n",
        ])
        defer { moved.remove() }
        expectDiagnostic(moved.diagnostics(), "job.yaml", 5, 3, "server app 'backup' must be deployed to exactly [server]")
    }

    @Test func deployedAppWithoutFolderAndFolderNotDeployed() throws {
        let job = try JobFixture([
            "job.yaml": "name: t\nmin_clients: 2\ndeploy:\n  server: [server]\n  client: [site-1]\n  trainer: [site-2]\n",
            "apps/unused/app.yaml": "executor:\n  command: [x]\n",
        ])
        defer { job.remove() }
        let d = job.diagnostics()
        expectDiagnostic(d, "job.yaml", 6, 3, "app 'trainer' has no folder apps/trainer/", hint: "create apps/trainer/app.yaml")
        expectDiagnostic(d, "job.yaml", 3, 1, "app folder apps/unused/ is not deployed to any site")
    }

    @Test func deployTargetErrors() throws {
        let job = try JobFixture([
            "job.yaml": "name: t\nmin_clients: 2\ndeploy:\n  server: [server]\n  client: site-1\n",
        ])
        defer { job.remove() }
        expectDiagnostic(job.diagnostics(), "job.yaml", 5, 11, "deploy target of 'client' must be a list of sites or `all`",
                         hint: "client: [site-1]")
    }

    @Test func unknownPlaceholdersAreReportedAtTheArgument() throws {
        let job = try JobFixture([
            "apps/client/app.yaml": "executor:\n  command: [train, \"{input_modle}\"]\n  env:\n    OUT: \"{nope}\"\n",
        ])
        defer { job.remove() }
        let d = job.diagnostics()
        expectDiagnostic(d, "apps/client/app.yaml", 2, 20, "unknown placeholder '{input_modle}'", hint: "did you mean '{input_model}'?")
        expectDiagnostic(d, "apps/client/app.yaml", 4, 10, "unknown placeholder '{nope}'", hint: "{input_model}")
    }

    @Test func allErrorsOfAllFilesAtOnceInFileOrder() throws {
        let job = try JobFixture([
            "job.yaml": "name: T!\nmin_clients: 2\ncolour: red\ndeploy:\n  server: [server]\n  client: all\n",
            "apps/server/app.yaml": "workflow: fedavg\nrounds: -1\nround_timeout: soon\n",
        ])
        defer { job.remove() }
        let d = job.diagnostics()
        #expect(d.count == 4, "\(d)")
        expectDiagnostic(d, "job.yaml", 1, 7, "invalid job name 'T!'")
        expectDiagnostic(d, "job.yaml", 3, 1, "unknown key 'colour'")
        expectDiagnostic(d, "apps/server/app.yaml", 2, 9, "'rounds' is -1")
        expectDiagnostic(d, "apps/server/app.yaml", 3, 16, "invalid duration 'soon'")
        let jobLines = d.filter { $0.file.hasSuffix("/job.yaml") }.map(\.line)
        #expect(jobLines == jobLines.sorted())
        let text = JobValidationFailure(diagnostics: d).description
        #expect(text.contains("job.yaml:1:7: error: invalid job name 'T!'\n    hint: "))
    }
}
