import Foundation
import Testing
@testable import FerryWorkspace

/// Every site has an X25519 encryption key beside its signing key: provisioning makes it (also for a
/// workspace made before sealed transfers), peers list each other's, and a missing key says what to run.
@Suite struct EncryptionKeyTests {
    @Test func provisioningMakesKeepsAndSharesEncryptionKeys() throws {
        let dir = try TempDir()
        let out = dir.sub("out")
        _ = try Provisioner(project: .standard(name: "demo", clients: 2), outputDirectory: out).run()
        let fm = FileManager.default
        var keys: [String: String] = [:]
        for site in ["server", "site-1", "site-2"] {
            let ws = out + "/demo/" + site
            let mode = try fm.attributesOfItem(atPath: ws + "/keys/encryption.key")[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let key: String = try #require(SiteEncryptionKey.publicKeyText(workspace: ws))
            keys[site] = key
            #expect(try SiteEncryptionKey.load(workspace: ws).publicKeyText == key)
        }
        let server = try SiteWorkspace.open(out + "/demo/server")
        #expect(server.peers["site-1"]?.encryptionKey == keys["site-1"])
        #expect(server.peers["site-2"]?.encryptionKey == keys["site-2"])
        #expect(try SiteWorkspace.open(out + "/demo/site-1").peers["server"]?.encryptionKey == keys["server"])

        // A workspace from before sealed transfers (no key): the next provision makes one, keeps the others.
        try fm.removeItem(atPath: out + "/demo/site-2/keys/encryption.key")
        try fm.removeItem(atPath: out + "/demo/site-2/keys/encryption.pub")
        do {
            _ = try SiteEncryptionKey.load(workspace: out + "/demo/site-2")
            Issue.record("a missing key must be an error")
        } catch {
            #expect("\(error)".contains("ferry site encryption-key"), "\(error)")
        }
        _ = try Provisioner(project: .standard(name: "demo", clients: 2), outputDirectory: out).run()
        let renewed = try #require(SiteEncryptionKey.publicKeyText(workspace: out + "/demo/site-2"))
        #expect(renewed != keys["site-2"])
        #expect(SiteEncryptionKey.publicKeyText(workspace: out + "/demo/site-1") == keys["site-1"])
        #expect(try SiteWorkspace.open(out + "/demo/server").peers["site-2"]?.encryptionKey == renewed)
    }

    @Test func siteInitCardsCarryTheKeyAndEncryptionKeySetupAddsIt() throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.sub("share"), withIntermediateDirectories: true)
        let made = try SiteSetup(workspace: dir.sub("site"), name: "site-1", role: .client, share: dir.sub("share"), inbox: nil, project: nil).run()
        let card = try SiteCard.load(path: made.card)
        #expect(card.encryptionKey == SiteEncryptionKey.publicKeyText(workspace: made.workspace))
        // An older site: no key, card without it. The setup command adds both; the card still verifies.
        try FileManager.default.removeItem(atPath: made.workspace + "/keys/encryption.key")
        try FileManager.default.removeItem(atPath: made.workspace + "/keys/encryption.pub")
        var old = card
        old.encryptionKey = nil
        try old.write(to: made.card, keys: try SiteWorkspace.open(made.workspace).keys)
        #expect(try SiteCard.load(path: made.card).encryptionKey == nil)
        let (_, created) = try SiteEncryptionKeySetup(workspace: made.workspace).run()
        #expect(created)
        let updated = try SiteCard.load(path: made.card)
        #expect(updated.encryptionKey != nil)
        #expect(updated.encryptionKey == SiteEncryptionKey.publicKeyText(workspace: made.workspace))
        #expect(try SiteEncryptionKeySetup(workspace: made.workspace).run().created == false)
    }
}
