import FerryRuntime
import FerryWorkspace
import Foundation
import Testing

/// Client sites with a policy.yaml, as separate `ferry watch` processes: jobs outside a site's policy
/// are refused there with the rule they broke and the server shows it; logs are shipped as the policy
/// says; `approve: manual` holds a job until `ferry approve` / `ferry reject` at the site.
@Suite(.tags(.spawnsProcesses)) struct SitePolicyFederationTests {
    /// A federation of `policies.count` clients, `policies[i]` written as site-(i+1)'s policy.yaml (nil: none),
    /// watchers started.
    private func federation(in dir: String, policies: [String?]) throws -> LocalFederation {
        let fed = try RT.federation(in: dir, clients: policies.count, start: false)
        for (client, policy) in zip(fed.clients, policies) {
            if let policy { try policy.write(toFile: client + "/policy.yaml", atomically: true, encoding: .utf8) }
        }
        try RT.startWatchers(fed)
        return fed
    }

    private func ferry(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try RT.run(RT.ferryBinary, arguments)
    }

    private func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test func eachRuleRefusesTheJobAtItsSiteWithTheReasonShownByTheServer() throws {
        let dir = try RT.temporaryDirectory("policy-rules")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try RT.writeJob(in: dir, name: "policy", server: .init(rounds: 2, minClients: 1), command: RT.trainer,
                                  env: ["LEARNING_RATE": "0.05"])
        let fed = try federation(in: dir, policies: [
            nil,
            "# only the hospital's vetted trainers\ncommands:\n  - \"/opt/fl/bin/*\"\n",
            "env: [\"FL_*\"]\n",
            "filters:\n  to_server: fp16\n",
            "max_rounds: 1\n",
            "comands: [\"/opt/fl/bin/*\"]\n",
        ])
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.rounds.allSatisfy { $0.clients.keys.sorted() == ["site-1"] })
        let expected = [
            "site-2": "policy.yaml:2: commands: 'ferry-example-trainer --input {input_model} --output {output_model} --result {result} --site {site} --round {round}' does not match any allowed pattern ['/opt/fl/bin/*']",
            "site-3": "policy.yaml:1: env: the job sets 'LEARNING_RATE', not among the allowed variables ['FL_*']",
            "site-4": "policy.yaml:2: filters.to_server: the job sends results unfiltered (full precision)",
            "site-5": "policy.yaml:1: max_rounds: the job runs 2 rounds; this site allows at most 1",
            "site-6": "this site's policy.yaml is invalid, so the site refuses every job until its operator fixes it: policy.yaml:1:1: unknown key 'comands' (did you mean 'commands'?)",
        ]
        let status = try ferry(["status", id, "--workspace", fed.server.directory])
        #expect(status.status == 0, "\(status.output)")
        for (site, reason) in expected.sorted(by: { $0.key < $1.key }) {
            let state = run.state.sites[site] ?? ""
            #expect(state.hasPrefix("refused: " + reason), "\(site): \(state)")
            #expect(status.output.contains("\(site): refused: \(reason)"), "\(status.output)")
            let client = fed.clients[Int(site.dropFirst(5))! - 1]
            #expect(text(client + "/jobs/\(id)/refused.json").contains(String(reason.prefix(40))), "\(site)")
            #expect(text(client + "/jobs/\(id)/logs/\(site).log").contains("deployment refused: " + reason), "\(site)")
            #expect(!FileManager.default.fileExists(atPath: client + "/jobs/\(id)/job"), "nothing of the job stays unpacked at \(site)")
        }
        // A broken policy is said once at the watcher's start too.
        #expect(text(fed.clients[5] + "/logs/watcher.log").contains("unknown key 'comands'"))
    }

    @Test func logsAreShippedWholeAsATailOrNotAtAll() throws {
        let dir = try RT.temporaryDirectory("policy-logs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try RT.writeJob(in: dir, name: "logs", server: .init(rounds: 1, minClients: 3), command: RT.trainer)
        let fed = try federation(in: dir, policies: ["logs: all\n", "logs: tail\nlog_tail_lines: 3\n", "logs: none\n"])
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        // The logs follow the results: wait for the two that are shipped.
        _ = try RT.wait(fed, id) { run in
            ["site-1", "site-2"].allSatisfy { FileManager.default.fileExists(atPath: run.paths.log(site: $0)) }
        }
        let whole = text(run.paths.log(site: "site-1"))
        #expect(whole.contains("running task train-r0001"), "\(whole)")
        let tail = text(run.paths.log(site: "site-2")).split(separator: "\n").map(String.init)
        #expect(tail.count == 4, "\(tail)")
        #expect(tail.first?.hasPrefix("[ferry] site-2: the last 3 lines of this site's log of the job (policy.yaml: logs: tail)") == true)
        let own = text(fed.clients[1] + "/jobs/\(id)/logs/site-2.log").split(separator: "\n").map(String.init)
        #expect(own.count > 4)
        #expect(tail.dropFirst().allSatisfy { own.contains($0) }, "\(tail) not in \(own)")
        #expect(!tail.contains { $0.contains("received task") }, "older lines stay at the site")
        // site-3 sent its result and no log at all.
        let outbox = fed.clients[2] + "/outbox"
        #expect(FileManager.default.fileExists(atPath: outbox + "/sent/\(id).result.train-r0001.site-3.json"))
        #expect(!FileManager.default.fileExists(atPath: outbox + "/sent/\(id).log.train-r0001.site-3.json"))
        #expect(!FileManager.default.fileExists(atPath: outbox + "/\(id).log.train-r0001.site-3.json"))
        #expect(!FileManager.default.fileExists(atPath: run.paths.log(site: "site-3")))
        #expect(FileManager.default.fileExists(atPath: fed.clients[2] + "/jobs/\(id)/logs/site-3.log"))
    }

    @Test func aManuallyApprovedJobWaitsThenRuns() throws {
        let dir = try RT.temporaryDirectory("policy-approve")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try RT.writeJob(in: dir, name: "approve", server: .init(rounds: 1, minClients: 2), command: RT.trainer)
        let fed = try federation(in: dir, policies: [nil, "approve: manual\n"])
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let waiting = try RT.wait(fed, id) { $0.state.sites["site-2"] == "waiting for approval" || $0.state.state.isFinished }
        #expect(waiting.state.sites["site-2"] == "waiting for approval", "\(waiting.state.sites)")
        let status = try ferry(["status", id, "--workspace", fed.server.directory])
        #expect(status.output.contains("for approval at site-2"), "\(status.output)")
        let site = fed.clients[1]
        let list = try ferry(["approvals", "--workspace", site])
        #expect(list.status == 0 && list.output.contains(id) && list.output.contains("ferry-example-trainer --input {input_model}"),
                "\(list.output)")
        #expect(!FileManager.default.fileExists(atPath: site + "/jobs/\(id)/deploy.json"), "nothing runs before the decision")
        let approved = try ferry(["approve", String(id.prefix(id.count - 2)), "--workspace", site])
        #expect(approved.status == 0, "\(approved.output)")
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedCompleted, "\(run.state.reason ?? "")")
        #expect(run.rounds.first?.clients.keys.sorted() == ["site-1", "site-2"])
        #expect(text(site + "/jobs/\(id)/logs/site-2.log").contains("approved by this site's operator"))
        let late = try ferry(["reject", id, "--workspace", site])
        #expect(late.status == 1 && late.output.contains("does not wait for approval"), "\(late.output)")
        let empty = try ferry(["approvals", "--workspace", site])
        #expect(empty.output.contains("no job waits for approval at site-2"), "\(empty.output)")
    }

    @Test func aManuallyRejectedJobIsReportedToTheServer() throws {
        let dir = try RT.temporaryDirectory("policy-reject")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try RT.writeJob(in: dir, name: "reject", server: .init(rounds: 1, minClients: 1), command: RT.trainer)
        let fed = try federation(in: dir, policies: ["approve: manual\n"])
        defer { fed.stop() }
        let id = try fed.submit(job).id
        _ = try RT.wait(fed, id) { $0.state.sites["site-1"] == "waiting for approval" || $0.state.state.isFinished }
        let rejected = try ferry(["reject", id, "--workspace", fed.clients[0], "--reason", "not before the ethics review"])
        #expect(rejected.status == 0, "\(rejected.output)")
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedFailed)
        let reason = "rejected by the operator of site-1 (ferry reject): not before the ethics review"
        #expect(run.state.reason?.contains("site-1: refused the job: " + reason) == true, "\(run.state.reason ?? "")")
        #expect(run.state.sites["site-1"] == "refused: " + reason)
        #expect(!FileManager.default.fileExists(atPath: fed.clients[0] + "/jobs/\(id)/job"))
    }

    @Test func aDeploymentNobodyApprovesFailsSayingWhy() throws {
        let dir = try RT.temporaryDirectory("policy-unapproved")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The deadline is the test's subject; 30 s leaves the pending notice time to arrive however loaded the machine.
        let job = try RT.writeJob(in: dir, name: "unapproved", server: .init(rounds: 1, roundTimeout: "30s", minClients: 1),
                                  command: RT.trainer)
        let fed = try federation(in: dir, policies: ["approve: manual\n"])
        defer { fed.stop() }
        let run = try RT.waitFinished(fed, try fed.submit(job).id)
        #expect(run.state.state == .finishedFailed)
        #expect(run.state.reason?.contains("site-1: still waiting for approval at site-1 after 30") == true, "\(run.state.reason ?? "")")
        #expect(run.state.sites["site-1"] == "not approved in time")
    }
}

extension SitePolicyFederationTests {
    /// A result the job's filter cannot be applied to goes at full precision from a site without a
    /// policy (with a note), but never from a site whose policy requires a filter on results: that site
    /// tells the server its task failed, with the reason, so the round decides at once (min_clients 2
    /// cannot be met: the job fails now, not after its 1 h round timeout).
    @Test func aResultThatCannotBeFilteredIsNeverSentAtFullPrecision() throws {
        let dir = try RT.temporaryDirectory("policy-filter")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
        printf 'not a safetensors model' > "$FERRY_OUTPUT_MODEL"
        printf '{"num_samples": 1, "metrics": {}}' > "$FERRY_RESULT"

        """
        let job = try RT.writeJob(in: dir, name: "unfilterable", server: .init(rounds: 1, minClients: 2),
                                  command: ["sh", "fake.sh"], files: ["fake.sh": script])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: job + "/apps/client/app.yaml"))
        handle.seekToEndOfFile()
        handle.write(Data("filters:\n  to_server: fp16\n".utf8))
        try handle.close()
        let fed = try federation(in: dir, policies: [nil, "filters:\n  to_server: fp16\n"])
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let sent = fed.clients[1] + "/outbox/sent/\(id).result.train-r0001.site-2.json"
        let openSent = fed.clients[0] + "/outbox/sent/\(id).result.train-r0001.site-1.json"
        _ = try RT.wait(fed, id) { _ in [sent, openSent].allSatisfy { FileManager.default.fileExists(atPath: $0) } }
        let record = text(sent)
        #expect(record.contains("not sent: this site's policy.yaml requires a filter on results"), "\(record)")
        // site-1 (no policy) sent its result at full precision, saying so.
        let open = text(openSent)
        #expect(open.contains("sent at full precision instead") && !open.contains("\"error\" : \""), "\(open)")
        let run = try RT.waitFinished(fed, id)
        let reason = run.state.reason ?? ""
        #expect(run.state.state == .finishedFailed, "\(reason)")
        #expect(reason.contains("site-2") && reason.contains("the result of train-r0001 was not sent")
                && reason.contains("requires a filter on results"), "\(reason)")
        // The job log says it too (written when the failed send is recorded, before the report left).
        let log = text(fed.clients[1] + "/jobs/\(id)/logs/site-2.log")
        #expect(log.contains("not sent: this site's policy.yaml requires a filter on results"), "\(log)")
    }

    /// An operator's edit applies without a restart: max_rounds lowered while round 1 runs refuses the
    /// task of round 2 with the rule.
    @Test func maxRoundsLoweredDuringAJobRefusesTheNextTask() throws {
        let dir = try RT.temporaryDirectory("policy-rounds")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let go = dir + "/go"
        let script = """
        while [ ! -e '\(go)' ]; do sleep 0.1; done
        exec ferry-example-trainer --input "$FERRY_INPUT_MODEL" --output "$FERRY_OUTPUT_MODEL" --result "$FERRY_RESULT" --site "$FERRY_SITE"

        """
        let job = try RT.writeJob(in: dir, name: "rounds", server: .init(rounds: 2, minClients: 1),
                                  command: ["sh", "wait.sh"], files: ["wait.sh": script])
        let fed = try federation(in: dir, policies: [nil])
        defer { fed.stop() }
        let id = try fed.submit(job).id
        let started = fed.clients[0] + "/jobs/\(id)/tasks/train-r0001/started.json"
        _ = try RT.wait(fed, id) { FileManager.default.fileExists(atPath: started) || $0.state.state.isFinished }
        try "max_rounds: 1\n".write(toFile: fed.clients[0] + "/policy.yaml", atomically: true, encoding: .utf8)
        #expect(FileManager.default.createFile(atPath: go, contents: nil))
        let run = try RT.waitFinished(fed, id)
        #expect(run.state.state == .finishedFailed)
        #expect(run.rounds.count == 1)
        let reason = run.state.reason ?? ""
        #expect(reason.contains("policy.yaml:1: max_rounds: a task of round 2 arrived; this site allows at most 1"), "\(reason)")
    }
}
