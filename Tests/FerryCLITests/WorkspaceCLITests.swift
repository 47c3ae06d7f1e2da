import Foundation
import Testing

/// A federation provisioned from `workspaces/examples/project.yaml` into a temporary folder, with a copy
/// of `jobs/hello-fedavg`.
final class ProvisionedFederation {
    let root: URL
    var workspaces: String { root.appendingPathComponent("ws").path }
    var server: String { workspaces + "/demo/server" }
    var job: String { root.appendingPathComponent("hello-fedavg").path }
    static let exampleProject = FerryCLI.repositoryRoot.appendingPathComponent("workspaces/examples/project.yaml").path

    init() throws {
        root = try FerryCLI.temporaryDirectory("workspace")
        let r = try FerryCLI.run(["provision", Self.exampleProject, "-o", workspaces])
        guard r.status == 0 else { throw CLIFailure(result: r) }
        try FileManager.default.copyItem(at: FerryCLI.repositoryRoot.appendingPathComponent("jobs/hello-fedavg"),
                                         to: URL(fileURLWithPath: job))
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Runs `ferry ARGS --workspace <server>`.
    func ferry(_ arguments: [String]) throws -> FerryCLI.Result {
        try FerryCLI.run(arguments + ["--workspace", server])
    }

    /// Submits the job copy and returns its id.
    func submit() throws -> String {
        let r = try ferry(["submit", job])
        guard r.status == 0 else { throw CLIFailure(result: r) }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func jobFile(_ id: String, _ name: String) -> String { "\(server)/jobs/\(id)/\(name)" }

    /// `ferry status ID --json` as a dictionary.
    func status(_ id: String) throws -> [String: Any] {
        let r = try ferry(["status", id, "--json"])
        guard r.status == 0 else { throw CLIFailure(result: r) }
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    /// Changes `state.json` the way the server watcher would.
    func setState(_ id: String, _ state: String) throws {
        let path = jobFile(id, "state.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        object["state"] = state
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    var result: FerryCLI.Result
    var description: String { "exit \(result.status)\nstdout: \(result.stdout)\nstderr: \(result.stderr)" }
}

@Suite struct WorkspaceCLITests {
    @Test func provisionTwiceKeepsKeysAndForceReplacesThem() throws {
        let fed = try ProvisionedFederation()
        let sites = ["server", "site-1", "site-2"]
        func keys() throws -> [String] {
            try sites.map { try String(contentsOfFile: "\(fed.workspaces)/demo/\($0)/keys/site.key", encoding: .utf8) }
        }
        let first = try keys()
        #expect(Set(first).count == 3)
        #expect(FileManager.default.fileExists(atPath: fed.workspaces + "/demo/site-1/trusted/server.pub"))
        let again = try FerryCLI.run(["provision", ProvisionedFederation.exampleProject, "-o", fed.workspaces])
        #expect(again.status == 0)
        #expect(again.stdout.components(separatedBy: " kept ").count - 1 == 3)
        #expect(try keys() == first)
        let forced = try FerryCLI.run(["provision", ProvisionedFederation.exampleProject, "-o", fed.workspaces,
                                       "--force-new-keys"])
        #expect(forced.status == 0)
        #expect(forced.stdout.contains("replaced"))
        #expect(forced.stderr.contains("restart every watcher"))
        let replaced = try keys()
        #expect(zip(first, replaced).allSatisfy { $0 != $1 })
        let trusted = try String(contentsOfFile: fed.workspaces + "/demo/site-1/trusted/server.pub", encoding: .utf8)
        let serverPub = try String(contentsOfFile: fed.workspaces + "/demo/server/keys/site.pub", encoding: .utf8)
        #expect(trusted == serverPub)
    }

    @Test func provisionReportsProjectErrorsWithPositions() throws {
        let fed = try ProvisionedFederation()
        let file = fed.root.appendingPathComponent("bad.yaml").path
        try fed.write("name: demo\nclient: 2\n", to: file)
        let r = try FerryCLI.run(["provision", file, "-o", fed.workspaces])
        #expect(r.status == 1)
        #expect(r.stderr.contains("bad.yaml:2:1: error: unknown key 'client'"))
        #expect(r.stderr.contains("did you mean 'clients'?"))
    }

    @Test func submitPrintsTheIdAndJobsAndStatusShowIt() throws {
        let fed = try ProvisionedFederation()
        let id = try fed.submit()
        #expect(id.range(of: #"^\d{8}-\d{6}-[0-9a-f]{6}$"#, options: .regularExpression) != nil)
        for file in ["job.tar.gz", "job.sig", "meta.json", "state.json"] {
            #expect(FileManager.default.fileExists(atPath: fed.jobFile(id, file)), "\(file)")
        }

        let list = try fed.ferry(["jobs", "--json"])
        #expect(list.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        let jobs = try #require(object["jobs"] as? [[String: Any]])
        #expect(jobs.count == 1)
        #expect(jobs.first?["id"] as? String == id)
        #expect((object["damaged"] as? [Any])?.isEmpty == true)

        let status = try fed.status(String(id.prefix(17)))
        #expect(status["id"] as? String == id)
        #expect(status["name"] as? String == "hello-fedavg")
        #expect(status["state"] as? String == "submitted")
        #expect(status["round"] as? Int == 0 && status["rounds"] as? Int == 3)
        #expect(status["sites"] as? [String: String] == ["server": "pending", "site-1": "pending", "site-2": "pending"])
        #expect(status["bytes_sent"] as? Int == 0)
        #expect(status["abort_requested"] as? Bool == false)
        #expect(status["directory"] as? String == fed.server + "/jobs/" + id)
        let meta = try #require(status["meta"] as? [String: Any])
        #expect(meta["sites"] as? [String] == ["server", "site-1", "site-2"])
        #expect(meta["source"] as? String == fed.job)
        #expect(meta["signed_by"] as? String == "server")

        let table = try fed.ferry(["jobs"])
        #expect(table.stdout.contains(id) && table.stdout.contains("submitted") && table.stdout.contains("hello-fedavg"))
        let text = try fed.ferry(["status", id])
        #expect(text.stdout.contains("submitted") && text.stdout.contains("site-2: pending"))
    }

    @Test func workspaceComesFromTheEnvironmentOrAParentFolder() throws {
        let fed = try ProvisionedFederation()
        let id = try fed.submit()
        let viaEnv = try FerryCLI.run(["jobs"], environment: ["FERRY_WORKSPACE": fed.server])
        #expect(viaEnv.status == 0 && viaEnv.stdout.contains(id))
        let viaParent = try FerryCLI.run(["status", id, "--workspace", fed.workspaces])
        #expect(viaParent.status == 0 && viaParent.stdout.contains(id))
        let viaDefault = try FerryCLI.run(["jobs"], in: fed.root, environment: ["FERRY_WORKSPACE": ""])
        #expect(viaDefault.status == 1)  // ./workspaces does not exist in the temporary folder
        #expect(viaDefault.stderr.contains("no server workspace") && viaDefault.stderr.contains("--workspace"))
        let client = try FerryCLI.run(["jobs", "--workspace", fed.workspaces + "/demo/site-1"])
        #expect(client.status == 1 && client.stderr.contains("client workspace"))
    }

    @Test func submitRefusesInvalidJobsAndSitesTheFederationLacks() throws {
        let fed = try ProvisionedFederation()
        try fed.write("workflow: fedavgg\nrounds: 3\n", to: fed.job + "/apps/server/app.yaml")
        let invalid = try fed.ferry(["submit", fed.job])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("app.yaml:1:"))
        #expect(invalid.stdout.isEmpty)

        try FileManager.default.removeItem(atPath: fed.job + "/apps/server/app.yaml")
        try FileManager.default.copyItem(atPath: FerryCLI.repositoryRoot.appendingPathComponent("jobs/hello-fedavg/apps/server/app.yaml").path,
                                         toPath: fed.job + "/apps/server/app.yaml")
        let jobYAML = try String(contentsOfFile: fed.job + "/job.yaml", encoding: .utf8)
        try fed.write(jobYAML.replacingOccurrences(of: "client: all", with: "client: [site-1, site-7]")
            .replacingOccurrences(of: "min_clients: 2", with: "min_clients: 1"), to: fed.job + "/job.yaml")
        let unknown = try fed.ferry(["submit", fed.job])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("'site-7'") && unknown.stderr.contains("does not have"))
        #expect(unknown.stderr.contains("sites: server, site-1, site-2"))
        let stored = (try? FileManager.default.contentsOfDirectory(atPath: fed.server + "/jobs")) ?? []
        #expect(stored.isEmpty)

        let missing = try fed.ferry(["submit", fed.root.appendingPathComponent("nothing").path])
        #expect(missing.status == 2)
    }

    @Test func submitAFolderOfJobsSubmitsEach() throws {
        let fed = try ProvisionedFederation()
        let sweep = fed.root.appendingPathComponent("sweep")
        try FileManager.default.createDirectory(at: sweep, withIntermediateDirectories: true)
        for name in ["lr-0.1", "lr-0.5"] {
            try FileManager.default.copyItem(atPath: fed.job, toPath: sweep.appendingPathComponent(name).path)
        }
        let r = try fed.ferry(["submit", sweep.path])
        #expect(r.status == 0)
        let ids = r.stdout.split(separator: "\n").map(String.init)
        #expect(ids.count == 2 && Set(ids).count == 2)
        let meta = try fed.status(ids[0])["meta"] as? [String: Any]
        #expect(meta?["source"] as? String == sweep.appendingPathComponent("lr-0.1").path)
        #expect(r.stderr.contains("2 of 2 jobs submitted"))
    }

    @Test func abortDropsARequestFileForTheWatcher() throws {
        let fed = try ProvisionedFederation()
        let id = try fed.submit()
        let r = try fed.ferry(["abort", id])
        #expect(r.status == 0 && r.stdout.contains("abort requested"))
        let request = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fed.jobFile(id, "abort.request")))) as? [String: Any]
        #expect(request?["by"] as? String == "cli")
        #expect(request?["requested_at"] is String)
        #expect(try fed.status(id)["abort_requested"] as? Bool == true)
        // The CLI never writes state.json: the watcher does.
        #expect(try fed.status(id)["state"] as? String == "submitted")
        let again = try fed.ferry(["abort", id])
        #expect(again.status == 0 && again.stdout.contains("already requested"))
        try fed.setState(id, "finished:completed")
        let finished = try fed.ferry(["abort", id])
        #expect(finished.status == 1 && finished.stderr.contains("finished:completed"))
    }

    @Test func cloneAndDelete() throws {
        let fed = try ProvisionedFederation()
        let id = try fed.submit()
        let clone = try fed.ferry(["clone", id])
        #expect(clone.status == 0)
        let copy = clone.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(copy != id)
        let meta = try fed.status(copy)["meta"] as? [String: Any]
        #expect(meta?["cloned_from"] as? String == id)
        #expect(meta?["source"] as? String == "clone:\(id)")
        #expect(meta?["archive_sha256"] as? String == (try fed.status(id)["meta"] as? [String: Any])?["archive_sha256"] as? String)

        try fed.setState(copy, "running")
        let refused = try fed.ferry(["delete", copy])
        #expect(refused.status == 1 && refused.stderr.contains("ferry abort"))
        #expect(try fed.ferry(["delete", copy, "--force"]).status == 0)
        let deleted = try fed.ferry(["delete", id])
        #expect(deleted.status == 0 && deleted.stdout.contains("deleted \(id)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fed.server + "/jobs").isEmpty)
        let gone = try fed.ferry(["status", id])
        #expect(gone.status == 1 && gone.stderr.contains("ferry jobs"))
    }

    @Test func tamperedOrUnsignedArchiveIsRefused() throws {
        let fed = try ProvisionedFederation()
        let id = try fed.submit()
        let archive = URL(fileURLWithPath: fed.jobFile(id, "job.tar.gz"))
        var bytes = try Data(contentsOf: archive)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: archive)
        let tampered = try fed.ferry(["clone", id])
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("signature check failed"))

        let other = try fed.submit()
        try FileManager.default.removeItem(atPath: fed.jobFile(other, "job.sig"))
        let unsigned = try fed.ferry(["clone", other])
        #expect(unsigned.status == 1 && unsigned.stderr.contains("unsigned"))
    }

    @Test func ambiguousPrefixAndUsageErrors() throws {
        let fed = try ProvisionedFederation()
        let a = try fed.submit()
        let b = try fed.submit()
        let common = String(zip(a, b).prefix { $0 == $1 }.map(\.0))
        let ambiguous = try fed.ferry(["status", common])
        #expect(ambiguous.status == 1 && ambiguous.stderr.contains("matches 2 jobs"))
        #expect(try fed.ferry(["status"]).status == 2)
        #expect(try fed.ferry(["jobs", "--no-such-flag"]).status == 2)
        let help = try FerryCLI.run(["submit", "--help"])
        #expect(help.status == 0 && help.stdout.contains("FERRY_WORKSPACE"))
    }

    @Test func logsPrintsPerSiteLogsAndFollowEndsWithTheJob() throws {
        let fed = try ProvisionedFederation()
        let id = try fed.submit()
        let none = try fed.ferry(["logs", id])
        #expect(none.status == 1 && none.stderr.contains("no logs"))
        try fed.write("server line 1\nserver line 2\n", to: fed.jobFile(id, "logs/server.log"))
        try fed.write("site-1 trained\n", to: fed.jobFile(id, "logs/site-1.log"))
        let all = try fed.ferry(["logs", id])
        #expect(all.status == 0)
        #expect(all.stdout == "==> server <==\nserver line 1\nserver line 2\n\n==> site-1 <==\nsite-1 trained\n")
        let one = try fed.ferry(["logs", id, "--site", "site-1"])
        #expect(one.stdout == "site-1 trained\n")
        let wrong = try fed.ferry(["logs", id, "--site", "site-9"])
        #expect(wrong.status == 1 && wrong.stderr.contains("server, site-1, site-2"))
        try fed.setState(id, "finished:completed")
        let followed = try fed.ferry(["logs", id, "--site", "server", "--follow"])
        #expect(followed.status == 0 && followed.stdout == "server line 1\nserver line 2\n")
    }

    @Test func downloadCopiesResults() throws {
        let fed = try ProvisionedFederation()
        let id = try fed.submit()
        try fed.write("model bytes", to: fed.jobFile(id, "models/final.safetensors"))
        try fed.write("round 1 model", to: fed.jobFile(id, "models/global-round-1.safetensors"))
        try fed.write("{\"rounds\": []}\n", to: fed.jobFile(id, "metrics.json"))
        try fed.write("{\"round\": 1}\n", to: fed.jobFile(id, "rounds/round-0001.json"))
        try fed.write("log\n", to: fed.jobFile(id, "logs/site-2.log"))
        let out = fed.root.appendingPathComponent("results").path
        let r = try fed.ferry(["download", id, "-o", out])
        #expect(r.status == 0)
        for (copied, original) in [("final.safetensors", "models/final.safetensors"), ("metrics.json", "metrics.json"),
                                   ("state.json", "state.json"), ("meta.json", "meta.json"),
                                   ("rounds/round-0001.json", "rounds/round-0001.json"), ("logs/site-2.log", "logs/site-2.log")] {
            #expect(FileManager.default.contents(atPath: out + "/" + copied) == FileManager.default.contents(atPath: fed.jobFile(id, original)),
                    "\(copied)")
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/models"))
        let again = try fed.ferry(["download", id, "-o", out])
        #expect(again.status == 2 && again.stderr.contains("not an empty folder"))
        let all = fed.root.appendingPathComponent("all").path
        #expect(try fed.ferry(["download", id, "-o", all, "--all-models"]).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: all + "/models").sorted()
            == ["final.safetensors", "global-round-1.safetensors"])
    }
}
