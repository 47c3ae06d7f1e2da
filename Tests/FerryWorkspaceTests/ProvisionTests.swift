import Crypto
import Foundation
import Testing
@testable import FerryWorkspace

@Suite struct ProvisionTests {
    @Test func createsLayoutKeysTrustAndPeers() throws {
        let dir = try TempDir()
        let project = ProjectFile.standard(name: "demo", clients: 2, poll: .milliseconds(500), baseDirectory: dir.path)
        let result = try Provisioner(project: project, outputDirectory: dir.sub("out")).run()
        #expect(result.map(\.name) == ["server", "site-1", "site-2"])
        #expect(result.allSatisfy { $0.keyStatus == .created })
        let fm = FileManager.default
        for site in ["server", "site-1", "site-2"] {
            let ws = dir.sub("out/demo/\(site)")
            for sub in ["site.yaml", "keys/site.key", "keys/site.pub", "inbox", "jobs", "logs", "trusted"] {
                #expect(fm.fileExists(atPath: ws + "/" + sub), "\(site)/\(sub)")
            }
            let mode = try fm.attributesOfItem(atPath: ws + "/keys/site.key")[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        let server = try SiteWorkspace.open(dir.sub("out/demo/server"))
        let client = try SiteWorkspace.open(dir.sub("out/demo/site-1"))
        #expect(server.role == .server && client.role == .client)
        #expect(server.clientNames == ["site-1", "site-2"])
        #expect(Set(server.trustedKeys.keys) == ["site-1", "site-2"])
        #expect(Set(client.trustedKeys.keys) == ["server"])
        #expect(client.server?.name == "server")
        #expect(client.inbox(ofPeer: "server") == server.inboxDirectory)
        #expect(server.inbox(ofPeer: "site-2") == dir.sub("out/demo/site-2/inbox"))
        #expect(client.poll == .milliseconds(500))
        // Keys are real Ed25519 pairs and the trust files hold the peers' public keys.
        let message = Data("hello".utf8)
        let signature = try client.keys.sign(message)
        #expect(server.trustedKeys["site-1"]!.isValidSignature(signature, for: message))
        #expect(!server.trustedKeys["site-2"]!.isValidSignature(signature, for: message))
        #expect(client.trustedKeys["server"]!.rawRepresentation == server.keys.publicKey.rawRepresentation)
        #expect(server.peers["site-1"]?.publicKey == client.keys.publicKeyText)
    }

    @Test func rerunKeepsKeysAndAddsSites() throws {
        let dir = try TempDir()
        let out = dir.sub("out")
        _ = try Provisioner(project: .standard(name: "demo", clients: 1), outputDirectory: out).run()
        let before = try SiteWorkspace.open(out + "/demo/site-1")
        let created = try String(contentsOfFile: out + "/demo/site-1/site.yaml", encoding: .utf8)
        let second = try Provisioner(project: .standard(name: "demo", clients: 2), outputDirectory: out)
            .run(now: Date().addingTimeInterval(3600))
        #expect(second.map(\.keyStatus) == [.kept, .kept, .created])
        let after = try SiteWorkspace.open(out + "/demo/site-1")
        #expect(after.keys.publicKeyText == before.keys.publicKeyText)
        #expect(after.config.created == before.config.created)
        #expect(created.contains(before.config.created))
        let server = try SiteWorkspace.open(out + "/demo/server")
        #expect(server.clientNames == ["site-1", "site-2"])
        #expect(server.trustedKeys["site-2"] != nil)
        // Removing a client removes the server's trust in it.
        let third = try Provisioner(project: .standard(name: "demo", clients: 1), outputDirectory: out).run()
        #expect(third.first?.removedTrust == ["site-2"])
        #expect(try SiteWorkspace.open(out + "/demo/server").trustedKeys["site-2"] == nil)
    }

    @Test func mismatchedKeyIsAnErrorUnlessForced() throws {
        let dir = try TempDir()
        let out = dir.sub("out")
        _ = try Provisioner(project: .standard(name: "demo", clients: 1), outputDirectory: out).run()
        let keyPath = out + "/demo/site-1/keys/site.key"
        try SiteKeys.generate().write(privateKeyPath: keyPath, publicKeyPath: dir.sub("elsewhere.pub"))
        let yamlBefore = try String(contentsOfFile: out + "/demo/server/site.yaml", encoding: .utf8)
        #expect(throws: WorkspaceError.self) {
            try Provisioner(project: .standard(name: "demo", clients: 1), outputDirectory: out).run()
        }
        #expect(throws: WorkspaceError.self) { try SiteWorkspace.open(out + "/demo/site-1") }
        // Nothing was written by the failed run.
        #expect(try String(contentsOfFile: out + "/demo/server/site.yaml", encoding: .utf8) == yamlBefore)
        let forced = try Provisioner(project: .standard(name: "demo", clients: 1), outputDirectory: out,
                                     forceNewKeys: true).run()
        #expect(forced.map(\.keyStatus) == [.replaced, .replaced])
        let client = try SiteWorkspace.open(out + "/demo/site-1")
        let server = try SiteWorkspace.open(out + "/demo/server")
        #expect(server.trustedKeys["site-1"]!.rawRepresentation == client.keys.publicKey.rawRepresentation)
    }

    @Test func missingPrivateKeyIsAnError() throws {
        let dir = try TempDir()
        let out = dir.sub("out")
        _ = try Provisioner(project: .standard(name: "demo", clients: 1), outputDirectory: out).run()
        try FileManager.default.removeItem(atPath: out + "/demo/site-1/keys/site.key")
        do {
            _ = try Provisioner(project: .standard(name: "demo", clients: 1), outputDirectory: out).run()
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("private key is missing"))
        }
    }

    @Test func aRemovedWorkspaceDoesNotGetANewKeyBehindItsPeersBacks() throws {
        let dir = try TempDir()
        let out = dir.sub("out")
        _ = try Provisioner(project: .standard(name: "demo", clients: 2), outputDirectory: out).run()
        let trusted = try String(contentsOfFile: out + "/demo/server/trusted/site-2.pub", encoding: .utf8)
        try FileManager.default.removeItem(atPath: out + "/demo/site-2")
        do {
            _ = try Provisioner(project: .standard(name: "demo", clients: 2), outputDirectory: out).run()
            Issue.record("expected the missing workspace to be an error")
        } catch {
            #expect(error.description.contains("site-2") && error.description.contains("server's site.yaml"))
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/demo/site-2"))
        #expect(try String(contentsOfFile: out + "/demo/server/trusted/site-2.pub", encoding: .utf8) == trusted)
        let forced = try Provisioner(project: .standard(name: "demo", clients: 2), outputDirectory: out,
                                     forceNewKeys: true).run()
        #expect(forced.map(\.keyStatus) == [.replaced, .replaced, .created])
    }

    @Test func customWorkspaceAndInboxPathsResolveAgainstProjectFile() throws {
        let dir = try TempDir()
        let file = try dir.write("conf/project.yaml", """
            name: share
            sites:
              - {name: server, role: server}
              - {name: site-1, role: client, workspace: ../mnt/site-1, inbox: ../mnt/inboxes/site-1}
            """)
        let project = try ProjectFile.load(path: file)
        _ = try Provisioner(project: project, outputDirectory: dir.sub("ws")).run()
        let client = try SiteWorkspace.open(dir.sub("mnt/site-1"))
        #expect(client.inboxDirectory == dir.sub("mnt/inboxes/site-1"))
        let server = try SiteWorkspace.open(dir.sub("ws/share/server"))
        #expect(server.inbox(ofPeer: "site-1") == dir.sub("mnt/inboxes/site-1"))
        #expect(FileManager.default.fileExists(atPath: dir.sub("mnt/inboxes/site-1")))
    }

    @Test func workspaceOfAnotherSiteIsRefused() throws {
        let dir = try TempDir()
        let project = ProjectFile(name: "p", sites: [
            ProjectSite(name: "server", role: .server),
            ProjectSite(name: "site-1", role: .client, workspace: dir.sub("same")),
            ProjectSite(name: "site-2", role: .client, workspace: dir.sub("same")),
        ], baseDirectory: dir.path)
        #expect(throws: WorkspaceError.self) { try Provisioner(project: project, outputDirectory: dir.path).run() }
    }

    @Test func discoverFindsServers() throws {
        let dir = try TempDir()
        _ = try Fixtures.federation(in: dir)
        #expect(SiteWorkspace.discover(under: dir.sub("workspaces")).count == 3)
        #expect(SiteWorkspace.discoverServers(under: dir.sub("workspaces")) == [dir.sub("workspaces/demo/server")])
        #expect(SiteWorkspace.discoverServers(under: dir.sub("workspaces/demo/server")) == [dir.sub("workspaces/demo/server")])
    }

    @Test func notAWorkspace() throws {
        let dir = try TempDir()
        #expect(throws: WorkspaceError.self) { try SiteWorkspace.open(dir.path) }
        try dir.write("site.yaml", "name: [unclosed\n")
        #expect(throws: WorkspaceError.self) { try SiteWorkspace.open(dir.path) }
    }

    @Test func keyFilesRoundTripAndRejectGarbage() throws {
        let dir = try TempDir()
        let keys = SiteKeys.generate()
        try keys.write(privateKeyPath: dir.sub("k.key"), publicKeyPath: dir.sub("k.pub"))
        #expect(try SiteKeys.load(privateKeyPath: dir.sub("k.key")).publicKeyText == keys.publicKeyText)
        #expect(try SiteKeys.loadPublicKey(path: dir.sub("k.pub")).rawRepresentation == keys.publicKey.rawRepresentation)
        let text = try String(contentsOfFile: dir.sub("k.pub"), encoding: .utf8)
        #expect(text == keys.publicKey.rawRepresentation.base64EncodedString() + "\n")
        try dir.write("bad.key", "not base64!!\n")
        #expect(throws: WorkspaceError.self) { try SiteKeys.load(privateKeyPath: dir.sub("bad.key")) }
        try dir.write("short.key", Data(count: 16).base64EncodedString() + "\n")
        #expect(throws: WorkspaceError.self) { try SiteKeys.load(privateKeyPath: dir.sub("short.key")) }
    }
}

@Suite struct ServerLocatorTests {
    @Test func findsTheSingleServerFromTheFlagTheEnvironmentOrAParent() throws {
        let dir = try TempDir()
        let server = try Fixtures.federation(in: dir)
        #expect(try ServerLocator.locate(given: server.directory, environment: [:]).directory == server.directory)
        #expect(try ServerLocator.locate(given: dir.sub("workspaces"), environment: [:]).directory == server.directory)
        #expect(try ServerLocator.locate(given: nil, environment: ["FERRY_WORKSPACE": dir.sub("workspaces/demo")])
            .directory == server.directory)
        #expect(ServerLocator.searchFolder(given: nil, environment: ["FERRY_WORKSPACE": ""]).folder == "workspaces")
        #expect(ServerLocator.searchFolder(given: "x", environment: ["FERRY_WORKSPACE": "y"]).folder == "x")
    }

    @Test func noneOrSeveralServersOrAClientAreErrors() throws {
        let dir = try TempDir()
        _ = try Fixtures.federation(in: dir)
        do {
            _ = try ServerLocator.locate(given: dir.sub("nowhere"), environment: [:])
            Issue.record("expected no server")
        } catch {
            guard case let .serverNotFound(_, origin, found) = error else { Issue.record("\(error)"); return }
            #expect(origin == "--workspace" && found.isEmpty)
        }
        let other = ProjectFile.standard(name: "other", clients: 1, baseDirectory: dir.path)
        _ = try Provisioner(project: other, outputDirectory: dir.sub("workspaces")).run()
        do {
            _ = try ServerLocator.locate(given: nil, environment: ["FERRY_WORKSPACE": dir.sub("workspaces")])
            Issue.record("expected two servers")
        } catch {
            guard case let .serverNotFound(_, origin, found) = error else { Issue.record("\(error)"); return }
            #expect(origin == "$FERRY_WORKSPACE" && found.count == 2)
            #expect(error.description.contains("choose one with --workspace"))
        }
        #expect(throws: WorkspaceError.self) {
            try ServerLocator.store(given: dir.sub("workspaces/demo/site-1"), environment: [:])
        }
    }
}
