import Foundation
import Testing
@testable import FerryWorkspace

/// Share groups (docs/workspaces.md): the share root of a `ferry site init` federation by default,
/// `share_group:` to name another folder or `off`, kept by provisioning for provisioned workspaces.
@Suite struct ShareGroupTests {
    private func setShareGroup(_ value: String?, in workspace: String) throws {
        var config = try SiteConfig.load(path: workspace + "/site.yaml")
        config.shareGroup = value
        try config.write(to: workspace + "/site.yaml")
    }

    @Test func aSiteInitFederationIsOneShareGroupUnlessTurnedOff() throws {
        let dir = try TempDir("sharegroup")
        let share = dir.sub("share")
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        let server = try SiteSetup(workspace: dir.sub("server"), name: "server", role: .server, share: share, inbox: nil, project: "p").run()
        var cards: [String] = []
        for k in 1...2 {
            let client = try SiteSetup(workspace: dir.sub("c\(k)"), name: "site-\(k)", role: .client, share: share,
                                       inbox: "in/site-\(k)", project: nil).run()
            cards.append(client.card)
        }
        _ = try FederationAdmin(server: try SiteWorkspace.open(server.workspace)).add(cards: cards)
        var ws = try SiteWorkspace.open(server.workspace)
        #expect(ws.shareGroupRoot == share)
        #expect(ws.shareGroupMembers == ["server", "site-1", "site-2"])
        #expect(ws.shareGroupSummary(members: ws.shareGroupMembers).contains("server, site-1, site-2"))

        // A narrower folder: only the inboxes below it.
        try setShareGroup("in", in: server.workspace)
        ws = try SiteWorkspace.open(server.workspace)
        #expect(ws.shareGroupRoot == share + "/in")
        #expect(ws.shareGroupMembers == ["site-1", "site-2"])
        #expect(try String(contentsOfFile: server.workspace + "/site.yaml", encoding: .utf8).contains("share_group: \"in\""))

        try setShareGroup(SiteWorkspace.shareGroupOff, in: server.workspace)
        ws = try SiteWorkspace.open(server.workspace)
        #expect(ws.shareGroupRoot == nil)
        #expect(ws.shareGroupMembers.isEmpty)
        #expect(ws.shareGroupSummary(members: []).hasPrefix("share group: none"))
    }

    @Test func provisionedWorkspacesHaveNoGroupUntilTheOperatorSetsOneAndProvisioningKeepsIt() throws {
        let dir = try TempDir("sharegroup")
        let out = dir.sub("out")
        _ = try Provisioner(project: .standard(name: "demo", clients: 2), outputDirectory: out).run()
        let server = out + "/demo/server"
        #expect(try SiteWorkspace.open(server).shareGroupRoot == nil)
        try setShareGroup(out + "/demo", in: server)
        _ = try Provisioner(project: .standard(name: "demo", clients: 2), outputDirectory: out).run()
        let ws = try SiteWorkspace.open(server)
        #expect(ws.config.shareGroup == out + "/demo")
        #expect(ws.shareGroupMembers == ["server", "site-1", "site-2"])
        // A sibling folder whose name merely starts like the root is not below it.
        #expect(!SiteWorkspace.isBelow(out + "/demo-2/inbox", root: out + "/demo"))
        #expect(!SiteWorkspace.isBelow(out + "/demo", root: out + "/demo"))
    }
}
