import Foundation
import Testing

/// `ferry site init|join|rotate-key` and `ferry federation add|remove|show`: cards, the signed federation
/// file, and their refusals.
@Suite struct SiteFederationCLITests {
    /// Runs ferry and expects exit `status` and a standard error holding every one of `texts`.
    private func expectFailure(_ arguments: [String], status: Int32, _ texts: String...,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try FerryCLI.run(arguments)
        #expect(r.status == status, "\(r.stdout)\(r.stderr)", sourceLocation: sourceLocation)
        for text in texts { #expect(r.stderr.contains(text), "\(r.stderr)", sourceLocation: sourceLocation) }
    }

    private func build(_ root: String, clients: [String] = ["site-1", "site-2"]) throws -> SiteFederation {
        try SiteFederation.build(root: root, clients: clients, share: { _ in root + "/share" }) { _, args in
            let r = try FerryCLI.run(args)
            return (r.status, r.stdout + r.stderr)
        }
    }

    @Test func siteInitMakesKeysOnlyInItsOwnWorkspaceAndJoinPinsTheServer() throws {
        let root = try FerryCLI.temporaryDirectory("siteinit").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fed = try build(root)
        #expect(try fed.leakedPrivateKeys() == [])
        let mode = try FileManager.default.attributesOfItem(atPath: fed.workspace("site-1") + "/keys/site.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // The client pinned the server's key and learnt the federation from the signed file.
        let pinned = try String(contentsOfFile: fed.workspace("site-1") + "/trusted/server.pub", encoding: .utf8)
        let serverKey = try String(contentsOfFile: fed.workspace("server") + "/keys/site.pub", encoding: .utf8)
        #expect(pinned == serverKey)
        let show = try FerryCLI.run(["federation", "show", fed.workspace("site-1"), "--json"])
        #expect(show.status == 0, "\(show.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect(json["project"] as? String == "study")
        #expect(json["serial"] as? Int == 2)
        #expect((json["sites"] as? [String: Any]).map { Set($0.keys) } == ["server", "site-1", "site-2"])
        let siteYAML = try String(contentsOfFile: fed.workspace("site-1") + "/site.yaml", encoding: .utf8)
        #expect(siteYAML.contains("inbox: \"inboxes/site-1\""), "\(siteYAML)")
        #expect(siteYAML.contains("project: \"study\""), "\(siteYAML)")
    }

    @Test func tamperedCardIsRefusedNamingTheFile() throws {
        let root = try FerryCLI.temporaryDirectory("tampercard").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fed = try build(root, clients: ["site-1"])
        let init3 = try FerryCLI.run(["site", "init", root + "/hosts/site-3/ws", "--name", "site-3", "--role", "client", "--share", fed.share])
        #expect(init3.status == 0, "\(init3.stderr)")
        let card = try #require(init3.stdout.split(separator: "\n").last.map(String.init))
        let original = try String(contentsOfFile: card, encoding: .utf8)
        // Redirecting the site's inbox elsewhere on the share.
        try original.replacingOccurrences(of: "inboxes/site-3", with: "inboxes/site-1").write(toFile: card, atomically: true, encoding: .utf8)
        try expectFailure(["federation", "add", fed.workspace("server"), card], status: 1, card, "signature does not verify")
        // A key swapped in: the card no longer verifies either.
        let otherKey = try String(contentsOfFile: fed.workspace("site-1") + "/keys/site.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let ownKey = try String(contentsOfFile: root + "/hosts/site-3/ws/keys/site.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try original.replacingOccurrences(of: ownKey, with: otherKey).write(toFile: card, atomically: true, encoding: .utf8)
        try expectFailure(["federation", "add", fed.workspace("server"), card], status: 1, "signature does not verify")
        // Nothing was written: still serial 2 with one client.
        let show = try FerryCLI.run(["federation", "show", fed.workspace("server")])
        #expect(show.stdout.contains("serial 2") && !show.stdout.contains("site-3"), "\(show.stdout)")
        try original.write(toFile: card, atomically: true, encoding: .utf8)
        let ok = try FerryCLI.run(["federation", "add", fed.workspace("server"), card])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("serial 3"), "\(ok.stdout)")
    }

    @Test func tamperedOrReplayedFederationFileIsRefusedByTheClient() throws {
        let root = try FerryCLI.temporaryDirectory("tamperfed").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fed = try build(root, clients: ["site-1"])
        let file = fed.share + "/federation-study.yaml"
        let serial2 = try String(contentsOfFile: file, encoding: .utf8)
        #expect(serial2.contains("serial: 2"))

        // Changed after signing: a site slipped in by editing the file.
        try serial2.replacingOccurrences(of: "revoked: []", with: "revoked:\n  - name: \"site-1\"\n    public_key: \"x\"\n    revoked: \"2026-01-01T00:00:00Z\"")
            .write(toFile: file, atomically: true, encoding: .utf8)
        try expectFailure(["federation", "show", fed.workspace("site-1")], status: 1, file, "changed after it was signed")
        try serial2.write(toFile: file, atomically: true, encoding: .utf8)

        // A newer file is accepted; the older one put back afterwards is refused as a replay.
        let init2 = try FerryCLI.run(["site", "init", root + "/hosts/site-2/ws", "--name", "site-2", "--role", "client", "--share", fed.share])
        let card2 = try #require(init2.stdout.split(separator: "\n").last.map(String.init))
        #expect(try FerryCLI.run(["federation", "add", fed.workspace("server"), card2]).status == 0)
        let newer = try FerryCLI.run(["federation", "show", fed.workspace("site-1")])
        #expect(newer.status == 0 && newer.stdout.contains("serial 3"), "\(newer.stdout)\(newer.stderr)")
        try serial2.write(toFile: file, atomically: true, encoding: .utf8)
        try expectFailure(["federation", "show", fed.workspace("site-1")], status: 1, "serial 2 is not newer than serial 3", file)

        // Signed by another server key: refused, saying to re-join with the new card.
        let rogue = try FerryCLI.run(["site", "init", root + "/rogue", "--name", "server", "--role", "server", "--share", root + "/rogue-share", "--project", "study"])
        #expect(rogue.status == 1, "no such share folder: \(rogue.stdout)")
        try FileManager.default.createDirectory(atPath: root + "/rogue-share", withIntermediateDirectories: true)
        #expect(try FerryCLI.run(["site", "init", root + "/rogue", "--name", "server", "--role", "server", "--share", root + "/rogue-share", "--project", "study"]).status == 0)
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.copyItem(atPath: root + "/rogue-share/federation-study.yaml", toPath: file)
        try expectFailure(["federation", "show", fed.workspace("site-1")], status: 1, "not signed by the server key this site pinned")
        // And a rogue server card is not pinned over the real one.
        try expectFailure(["site", "join", fed.workspace("site-1"), root + "/rogue/site-card.yaml"], status: 1, "already pinned server key")
    }

    @Test func rotatedKeyReplacesTheMemberAndTheOldKeyIsRevoked() throws {
        let root = try FerryCLI.temporaryDirectory("rotate").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fed = try build(root, clients: ["site-1"])
        let oldCard = root + "/cards/site-1.yaml"
        let rotate = try FerryCLI.run(["site", "rotate-key", fed.workspace("site-1")])
        #expect(rotate.status == 0, "\(rotate.stderr)")
        let newCard = try #require(rotate.stdout.split(separator: "\n").last.map(String.init))
        let add = try FerryCLI.run(["federation", "add", fed.workspace("server"), newCard])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("key replaced"), "\(add.stdout)")
        let trusted = try String(contentsOfFile: fed.workspace("server") + "/trusted/site-1.pub", encoding: .utf8)
        #expect(trusted == (try String(contentsOfFile: fed.workspace("site-1") + "/keys/site.pub", encoding: .utf8)))
        // The old key is revoked for good.
        try expectFailure(["federation", "add", fed.workspace("server"), oldCard], status: 1, "this key was revoked")
        let show = try FerryCLI.run(["federation", "show", fed.workspace("site-1")])
        #expect(show.status == 0 && show.stdout.contains("is a member"), "\(show.stdout)\(show.stderr)")
        #expect(try fed.leakedPrivateKeys() == [])
    }

    @Test func usageErrorsExitTwoAndFailuresOne() throws {
        let root = try FerryCLI.temporaryDirectory("siteusage").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try FerryCLI.run(["site", "init", root + "/a", "--role", "client"]).status == 2)
        #expect(try FerryCLI.run(["site", "init", root + "/a", "--name", "a", "--role", "nobody"]).status == 2)
        #expect(try FerryCLI.run(["site", "init", root + "/a", "--name", "a", "--role", "client", "--project", "p"]).status == 2)
        let fed = try build(root, clients: ["site-1"])
        try expectFailure(["federation", "add", fed.workspace("server"), root + "/no-card.yaml"], status: 2, "no-card.yaml")
        #expect(try FerryCLI.run(["site", "join", fed.workspace("site-1"), root + "/no-card.yaml"]).status == 2)
        let unknown = try FerryCLI.run(["federation", "remove", fed.workspace("server"), "site-9"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("'site-9' is not a member") && unknown.stderr.contains("site-1"), "\(unknown.stderr)")
        try expectFailure(["site", "init", fed.workspace("site-1"), "--name", "site-1", "--role", "client"], status: 1, "already holds a site workspace")
        try expectFailure(["federation", "add", fed.workspace("site-1"), root + "/cards/site-1.yaml"], status: 1, "is a client workspace")
        try expectFailure(["federation", "add", fed.workspace("server"), root + "/cards/server.yaml"], status: 1, "only client sites are added")
    }

    /// `ferry provision` stays the one-machine shortcut; its server can still remove a site.
    @Test func provisionedServerCanRemoveASite() throws {
        let root = try FerryCLI.temporaryDirectory("provremove").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "name: demo\nclients: 2\n".write(toFile: root + "/project.yaml", atomically: true, encoding: .utf8)
        let provision = try FerryCLI.run(["provision", root + "/project.yaml", "-o", root + "/ws"])
        #expect(provision.status == 0, "\(provision.stderr)")
        let server = root + "/ws/demo/server"
        let remove = try FerryCLI.run(["federation", "remove", server, "site-2"])
        #expect(remove.status == 0, "\(remove.stderr)")
        #expect(!FileManager.default.fileExists(atPath: server + "/trusted/site-2.pub"))
        #expect(FileManager.default.fileExists(atPath: server + "/trusted/site-1.pub"))
        let siteYAML = try String(contentsOfFile: server + "/site.yaml", encoding: .utf8)
        #expect(!siteYAML.contains("site-2") && siteYAML.contains("/ws/demo/site-1/inbox"), "\(siteYAML)")
        let show = try FerryCLI.run(["federation", "show", server])
        #expect(show.status == 0 && show.stdout.contains("revoked keys:") && show.stdout.contains("site-2"), "\(show.stdout)\(show.stderr)")
        #expect(try FerryCLI.run(["jobs", "--workspace", server]).status == 0)
    }

    /// `ferry provision` over a workspace made by `ferry site init` would drop its share and federation
    /// file and rewrite its peers behind the signed federation file: it is refused, and nothing changes.
    @Test func provisionOverASiteInitWorkspaceIsRefusedAndChangesNothing() throws {
        let root = try FerryCLI.temporaryDirectory("provinit").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/share", withIntermediateDirectories: true)
        let server = root + "/ws/demo/server"
        let initialized = try FerryCLI.run(["site", "init", server, "--name", "server", "--role", "server", "--share", root + "/share",
                                            "--project", "demo"])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        try (try String(contentsOfFile: server + "/site.yaml", encoding: .utf8) + "liveness:\n  grace: 2m\n")
            .write(toFile: server + "/site.yaml", atomically: true, encoding: .utf8)
        let before = try String(contentsOfFile: server + "/site.yaml", encoding: .utf8)
        try "name: demo\nclients: 2\n".write(toFile: root + "/project.yaml", atomically: true, encoding: .utf8)
        try expectFailure(["provision", root + "/project.yaml", "-o", root + "/ws"], status: 1,
                          server + "/site.yaml", "was made by `ferry site init`", "ferry federation add")
        #expect(try String(contentsOfFile: server + "/site.yaml", encoding: .utf8) == before)
        #expect(!FileManager.default.fileExists(atPath: root + "/ws/demo/site-1"))
    }

    /// The server rotates its key: clients refuse the federation file it re-signs until they join again
    /// with its new card, which its old key endorsed.
    @Test func serverKeyRotationNeedsTheClientsToJoinWithTheEndorsedCard() throws {
        let root = try FerryCLI.temporaryDirectory("rotateserver").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fed = try build(root, clients: ["site-1"])
        let rotate = try FerryCLI.run(["site", "rotate-key", fed.workspace("server")])
        #expect(rotate.status == 0, "\(rotate.stderr)")
        let card = try #require(rotate.stdout.split(separator: "\n").last.map(String.init))
        try expectFailure(["federation", "show", fed.workspace("site-1")], status: 1, "not signed by the server key this site pinned")
        let join = try FerryCLI.run(["site", "join", fed.workspace("site-1"), card])
        #expect(join.status == 0, "\(join.stderr)")
        #expect(join.stdout.contains("serial 3") && join.stdout.contains("this site is a member"), "\(join.stdout)")
        let pinned = try String(contentsOfFile: fed.workspace("site-1") + "/trusted/server.pub", encoding: .utf8)
        #expect(pinned == (try String(contentsOfFile: fed.workspace("server") + "/keys/site.pub", encoding: .utf8)))
        #expect(try fed.leakedPrivateKeys() == [])
    }
}
