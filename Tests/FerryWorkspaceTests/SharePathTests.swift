import Foundation
import Testing
@testable import FerryWorkspace

/// Share-relative paths: recorded relative to the share, resolved against each site's own mount point.
@Suite struct SharePathTests {
    @Test func pathsInsideTheShareAreRecordedRelativeAndOthersAbsolute() {
        #expect(SharePath.record("/mnt/fl/inboxes/site-1", share: "/mnt/fl") == "inboxes/site-1")
        #expect(SharePath.record("/mnt/fl/../fl/x", share: "/mnt/fl/") == "x")
        #expect(SharePath.record("/mnt/flx/inbox", share: "/mnt/fl") == "/mnt/flx/inbox")
        #expect(SharePath.record("/srv/ws/inbox", share: nil) == "/srv/ws/inbox")
    }

    @Test func relativePathsResolveAgainstTheSitesOwnMountPoint() {
        #expect(SharePath.resolve("inboxes/site-1", share: "/mnt/a") == "/mnt/a/inboxes/site-1")
        #expect(SharePath.resolve("inboxes/site-1", share: "/data/b/") == "/data/b/inboxes/site-1")
        #expect(SharePath.resolve("/abs/inbox", share: "/mnt/a") == "/abs/inbox")
    }

    /// Two sites mount one share at different paths: each resolves the other's inbox to its own view.
    @Test func twoSitesSeeTheSameInboxThroughTheirOwnMounts() throws {
        let dir = try TempDir("sharepath")
        let share = dir.sub("share")
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        let server = try SiteSetup(workspace: dir.sub("server"), name: "server", role: .server, share: share, inbox: nil, project: "p").run()
        let client = try SiteSetup(workspace: dir.sub("c"), name: "site-1", role: .client, share: share, inbox: "in/site-1", project: nil).run()
        #expect(client.inbox == "in/site-1" && client.inboxPath == share + "/in/site-1")
        #expect(FileManager.default.fileExists(atPath: share + "/in/site-1"))
        _ = try FederationAdmin(server: try SiteWorkspace.open(server.workspace)).add(cards: [client.card])
        // The server's host mounts the share elsewhere: only its own site.yaml says where.
        let elsewhere = dir.sub("mnt-server")
        try FileManager.default.createSymbolicLink(atPath: elsewhere, withDestinationPath: share)
        let file = server.workspace + "/site.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "share: \"\(share)\"", with: "share: \"\(elsewhere)\"")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let ws = try SiteWorkspace.open(server.workspace)
        #expect(ws.inbox(ofPeer: "site-1") == elsewhere + "/in/site-1")
        #expect(ws.peers["site-1"]?.inbox == elsewhere + "/in/site-1")
        #expect(ws.inboxDirectory == elsewhere + "/inboxes/server")
    }

    @Test func aRelativePathWithoutAShareIsRefusedWhenOpening() throws {
        let dir = try TempDir("sharepath")
        let share = dir.sub("share")
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        let client = try SiteSetup(workspace: dir.sub("c"), name: "site-1", role: .client, share: share, inbox: nil, project: nil).run()
        let file = client.workspace + "/site.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(of: "share: \"\(share)\"\n", with: "")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        #expect {
            try SiteWorkspace.open(client.workspace)
        } throws: { error in
            "\(error)".contains("'inboxes/site-1' is relative to the share") && "\(error)".contains(file)
        }
    }
}
