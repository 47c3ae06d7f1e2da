import Testing
import FerryJobs

/// Decoding single files in memory (as `ferry job inspect` does with files read from an archive).
@Suite struct JobYAMLTests {
    @Test func decodesAJobAndBothAppKinds() throws {
        let job = try JobYAML.decodeJob(Array("name: a\nmin_clients: 3\ndeploy:\n  server: [server]\n  c: all\n".utf8),
                                        file: "x.tar.gz:job.yaml")
        #expect(job.name == "a" && job.minClients == 3)
        #expect(job.deploy.map(\.app) == ["server", "c"])
        guard case .server(let server) = try JobYAML.decodeApp(Array("workflow: cyclic\nrounds: 4\n".utf8), file: "s",
                                                                 jobMinClients: 3) else {
            Issue.record("expected a server app")
            return
        }
        #expect(server.minClients == 3 && server.rounds == 4 && server.workflow == .cyclic)
        // Files on disk are not looked for: a relative program is accepted as written.
        guard case .client(let client) = try JobYAML.decodeApp(Array("executor:\n  command: [custom/train.sh]\n".utf8),
                                                                 file: "c") else {
            Issue.record("expected a client app")
            return
        }
        #expect(client.executor.command == ["custom/train.sh"])
    }

    @Test func errorsNameTheGivenFile() throws {
        #expect {
            _ = try JobYAML.decodeApp(Array("executor:\n  command: [\"../x\"]\n  timeout: nope\n".utf8), file: "a.zip:apps/c/app.yaml")
        } throws: { error in
            guard let failure = error as? JobValidationFailure else { return false }
            let lines = failure.diagnostics.map { "\($0.file):\($0.line):\($0.column)" }
            return lines == ["a.zip:apps/c/app.yaml:2:12", "a.zip:apps/c/app.yaml:3:12"]
        }
    }
}
