import Foundation
import Testing

/// A federation made the multi-host way in one temporary folder: `ferry site init` per site,
/// `ferry federation add`, `ferry site join`. Each site's workspace is its own folder; the share is one
/// folder that each site reaches through its own path (`mount(site)`).
struct SiteFederation {
    let root: String
    let share: String
    let clients: [String]

    /// The folder a site's workspace lives in.
    func workspace(_ site: String) -> String { root + "/hosts/\(site)/ws" }

    /// Creates every site with `ferry site init` (`run` runs ferry as that site's host would), adds the
    /// clients and joins them.
    static func build(root: String, clients: [String] = ["site-1", "site-2"], share shareFor: (String) -> String,
                      run: (String, [String]) throws -> (status: Int32, output: String)) throws -> SiteFederation {
        let share = root + "/share"
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/cards", withIntermediateDirectories: true)
        let fed = SiteFederation(root: root, share: share, clients: clients)
        for site in ["server"] + clients {
            try FileManager.default.createDirectory(atPath: root + "/hosts/\(site)", withIntermediateDirectories: true)
            var args = ["site", "init", fed.workspace(site), "--name", site, "--role", site == "server" ? "server" : "client",
                        "--share", shareFor(site)]
            if site == "server" { args += ["--project", "study"] }
            let r = try run(site, args)
            #expect(r.status == 0, "\(r.output)")
            // The last line of stdout is the card's path: copy it "by e-mail" to the coordinator.
            let card = try #require(r.output.split(separator: "\n").last.map(String.init), "\(r.output)")
            #expect(card == fed.workspace(site) + "/site-card.yaml", "\(r.output)")
            try FileManager.default.copyItem(atPath: card, toPath: root + "/cards/\(site).yaml")
        }
        let add = try run("server", ["federation", "add", fed.workspace("server")] + clients.map { root + "/cards/\($0).yaml" })
        #expect(add.status == 0, "\(add.output)")
        for site in clients {
            let join = try run(site, ["site", "join", fed.workspace(site), root + "/cards/server.yaml"])
            #expect(join.status == 0, "\(join.output)")
            #expect(join.output.contains("this site is a member"), "\(join.output)")
        }
        return fed
    }

    /// Each site's private key text (the line of keys/site.key).
    func privateKeys() throws -> [String: String] {
        var keys: [String: String] = [:]
        for site in ["server"] + clients {
            keys[site] = try String(contentsOfFile: workspace(site) + "/keys/site.key", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return keys
    }

    /// Files under `root` that hold a site's private key outside that site's own `keys/` folder.
    func leakedPrivateKeys() throws -> [String] {
        let keys = try privateKeys()
        var leaks: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            let path = root + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: path), data.count < 64 << 20 else { continue }
            let text = String(decoding: data, as: UTF8.self)
            for (site, key) in keys where text.contains(key) && !path.hasPrefix(workspace(site) + "/keys/") {
                leaks.append("\(site)'s private key in \(path)")
            }
        }
        return leaks
    }

    /// A copy of jobs/hello-fedavg with settings changed for a test.
    static func helloJob(in dir: String, minClients: Int, rounds: Int = 3, clientCommand: String? = nil) throws -> String {
        let job = dir + "/hello-fedavg"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: FerryCLI.repositoryRoot.appendingPathComponent("jobs/hello-fedavg").path, toPath: job)
        let server = job + "/apps/server/app.yaml"
        var text = try String(contentsOfFile: server, encoding: .utf8)
        text = text.replacingOccurrences(of: "min_clients: 2", with: "min_clients: \(minClients)")
            .replacingOccurrences(of: "rounds: 3", with: "rounds: \(rounds)")
            .replacingOccurrences(of: "round_timeout: 10m", with: "round_timeout: 1h")
        try text.write(toFile: server, atomically: true, encoding: .utf8)
        let jobFile = job + "/job.yaml"
        try (try String(contentsOfFile: jobFile, encoding: .utf8)).replacingOccurrences(of: "min_clients: 2", with: "min_clients: \(minClients)")
            .write(toFile: jobFile, atomically: true, encoding: .utf8)
        if let clientCommand {
            let client = job + "/apps/client/app.yaml"
            let lines = try String(contentsOfFile: client, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("  command:") ? "  command: \(clientCommand)" : String($0) }
            try lines.joined(separator: "\n").write(toFile: client, atomically: true, encoding: .utf8)
        }
        return job
    }

    /// Reads `state.json` of a job in the server's job store.
    func jobState(_ id: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: workspace("server") + "/jobs/\(id)/state.json") else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// Polls `condition` until it holds or a failsafe passes (never a synchronisation by itself).
    static func poll(seconds: Double = 300, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    /// The job id printed by `ferry submit` (alone on a stdout line).
    static func jobID(_ output: String) -> String? {
        output.split(separator: "\n").first { !$0.contains(" ") && $0.first?.isNumber == true }.map(String.init)
    }
}
