import FerryShareHarness
import Foundation
import Testing

/// Liveness across a real network share (sshfs, two mounts of one export, as ShareFederationTests):
/// the watchers write their heartbeats through mount `a`, `ferry sites` reads them through mount `b`.
/// Needs root (mount namespaces) and FUSE; skipped otherwise.
@Suite(.serialized, .tags(.spawnsProcesses)) struct ShareLivenessTests {
    @Test func aHeartbeatWrittenThroughOneMountIsSeenThroughTheOtherAndAKilledSiteGoesDead() throws {
        guard let (share, mnt, work) = try Namespace.startShare(
            for: "ShareLivenessTests.aHeartbeatWrittenThroughOneMountIsSeenThroughTheOtherAndAKilledSiteGoesDead") else { return }
        defer { share.stop() }
        try "name: live\npoll: 500ms\nsites:\n  - name: server\n    role: server\n  - name: site-1\n    role: client\n"
            .write(toFile: work + "/project.yaml", atomically: true, encoding: .utf8)
        let provision = try Namespace.run(share.a, at: mnt, ["provision", work + "/project.yaml", "-o", mnt + "/fed"])
        #expect(provision.status == 0, "\(provision.output)")
        let ws = mnt + "/fed/live"
        // A short grace, set by the server's operator in its site.yaml.
        let siteFile = share.root + "/export/fed/live/server/site.yaml"
        try (try String(contentsOfFile: siteFile, encoding: .utf8) + "liveness:\n  grace: 3s\n")
            .write(toFile: siteFile, atomically: true, encoding: .utf8)

        var watchers: [String: Process] = [:]
        defer { for p in watchers.values where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        for site in ["server", "site-1"] {
            watchers[site] = try Namespace.start(share.a, at: mnt, ["watch", ws + "/" + site, "--poll", "500ms", "--polling-only"],
                                                 log: work + "/\(site).log")
        }
        func site1() -> (state: String, clock: String)? {
            guard let r = try? Namespace.run(share.b, at: mnt, ["sites", "--workspace", ws + "/server", "--json"]), r.status == 0,
                  let start = r.output.firstIndex(of: "{"),
                  let json = try? JSONSerialization.jsonObject(with: Data(r.output[start...].utf8)) as? [String: Any],
                  let sites = json["sites"] as? [[String: Any]],
                  let entry = sites.first(where: { $0["site"] as? String == "site-1" }) else { return nil }
            return (entry["state"] as? String ?? "", entry["clock"] as? String ?? "")
        }
        // Failsafe deadlines only: a heartbeat is rewritten every 500 ms.
        let alive = SiteFederation.poll(seconds: 120) { site1().map { $0.state == "alive" && $0.clock == "observed" } ?? false }
        #expect(alive, "site-1 seen through mount b: \(String(describing: site1()))\n\(Self.logs(work))")

        if let victim = watchers["site-1"] {
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
        }
        let dead = SiteFederation.poll(seconds: 120) { site1()?.state == "dead" }
        #expect(dead, "site-1 after SIGKILL: \(String(describing: site1()))\n\(Self.logs(work))")
        // The server's watcher notices on its own next pass, which may come after `ferry sites` (which
        // judges the heartbeat itself) already says dead: wait for the line, with a failsafe deadline.
        func serverLog() -> String {
            (try? String(contentsOfFile: share.root + "/export/fed/live/server/logs/watcher.log", encoding: .utf8)) ?? ""
        }
        let logged = SiteFederation.poll(seconds: 120) { serverLog().contains("site-1: not seen for") }
        #expect(logged, "\(serverLog())")
    }

    private static func logs(_ work: String) -> String {
        ["server", "site-1"].map { site in
            let text = (try? String(contentsOfFile: work + "/\(site).log", encoding: .utf8)) ?? ""
            return "--- \(site) ---\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
