import Foundation
import Testing

/// A running server watcher takes in the sites `ferry federation add` brings, without a restart.
@Suite(.serialized, .tags(.spawnsProcesses)) struct FederationReloadTests {
    /// A federation of server and site-1 runs; site-2 is made, added and joined; its watcher starts and a
    /// job for every client (min_clients 2) runs to the end on both, the server never restarted.
    @Test func aSiteAddedToARunningServerJoinsTheNextJob() throws {
        let root = try FerryCLI.temporaryDirectory("reload").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fed = try SiteFederation.build(root: root, clients: ["site-1"], share: { _ in root + "/share" }) { _, args in
            let r = try FerryCLI.run(args)
            return (r.status, r.stdout + r.stderr)
        }
        var watchers = try SiteFederationRunTests.startWatchers(fed, root: root)
        defer { SiteFederationRunTests.stop(watchers) }
        let serverLog = fed.workspace("server") + "/logs/watcher.log"
        func log() -> String { (try? String(contentsOfFile: serverLog, encoding: .utf8)) ?? "" }
        #expect(SiteFederation.poll { log().contains("watching ") }, "\(SiteFederationRunTests.logs(root))")

        let site2 = SiteFederation(root: root, share: fed.share, clients: ["site-1", "site-2"])
        try FileManager.default.createDirectory(atPath: root + "/hosts/site-2", withIntermediateDirectories: true)
        let initialized = try FerryCLI.run(["site", "init", site2.workspace("site-2"), "--name", "site-2", "--role", "client",
                                            "--share", fed.share])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let add = try FerryCLI.run(["federation", "add", fed.workspace("server"), site2.workspace("site-2") + "/site-card.yaml"])
        #expect(add.status == 0, "\(add.stderr)")
        let join = try FerryCLI.run(["site", "join", site2.workspace("site-2"), root + "/cards/server.yaml"])
        #expect(join.status == 0, "\(join.stderr)")
        #expect(SiteFederation.poll { log().contains("reloaded keys and peers") }, "\(log())")
        #expect(log().contains("trusting site-2"), "\(log())")
        #expect(!log().contains("restart this watcher"), "\(log())")

        let p = Process()
        p.executableURL = FerryCLI.binary
        p.arguments = ["watch", site2.workspace("site-2"), "--poll", "100ms"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        watchers.append(p)

        let job = try SiteFederation.helloJob(in: root + "/job", minClients: 2, rounds: 1)
        let submit = try FerryCLI.run(["submit", job, "--workspace", fed.workspace("server")])
        #expect(submit.status == 0, "\(submit.stderr)")
        let id = try #require(SiteFederation.jobID(submit.stdout), "\(submit.stdout)")
        let finished = SiteFederation.poll { (fed.jobState(id)?["state"] as? String)?.hasPrefix("finished") ?? false }
        let state = fed.jobState(id)
        #expect(finished && state?["state"] as? String == "finished:completed", "\(String(describing: state))\n\(SiteFederationRunTests.logs(root))")
        #expect((state?["sites"] as? [String: String]).map { Set($0.keys) } == ["site-1", "site-2"], "\(String(describing: state))")
        let round = try String(contentsOfFile: fed.workspace("server") + "/jobs/\(id)/rounds/round-0001.json", encoding: .utf8)
        #expect(round.contains("site-2"), "\(round)")
    }
}
