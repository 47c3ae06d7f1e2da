import Crypto
import FerryArchive
import Foundation
import Testing
@testable import FerryWorkspace

@Suite struct JobStoreTests {
    @Test func submitWritesSignedArchiveMetaAndState() throws {
        let dir = try TempDir()
        let server = try Fixtures.federation(in: dir)
        let jobDir = try Fixtures.job(in: dir, rounds: 3)
        let store = try JobStore(workspace: server)
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let job = try store.submit(jobDirectoryOrArchive: jobDir, now: now)
        #expect(JobID.isValid(job.id))
        #expect(job.id.hasPrefix("20261118-110640-"))
        let fm = FileManager.default
        for file in [job.paths.archive, job.paths.signature, job.paths.meta, job.paths.state,
                     job.paths.roundsDirectory, job.paths.logsDirectory, job.paths.modelsDirectory] {
            #expect(fm.fileExists(atPath: file), "\(file)")
        }
        #expect(job.paths.directory == server.jobsDirectory + "/" + job.id)
        #expect(job.meta.name == "test-job")
        #expect(job.meta.sites == ["server", "site-1", "site-2"])
        #expect(job.meta.source == jobDir)
        #expect(job.state.state == .submitted)
        #expect(job.state.rounds == 3 && job.state.round == 0)
        #expect(job.state.sites == ["site-1": "pending", "site-2": "pending"])
        let (sha, bytes) = try JobSignature.digest(ofFile: job.paths.archive)
        #expect(sha == job.meta.archiveSHA256 && bytes == job.meta.archiveBytes)
        // The record read back from disk equals what submit returned.
        #expect(try store.record(id: job.id) == job)
        // The archive unpacks to the job folder.
        let unpacked = dir.sub("unpacked")
        _ = try JobArchive.unpack(archive: job.paths.archive, into: unpacked)
        #expect(fm.fileExists(atPath: unpacked + "/apps/server/app.yaml"))
        // No staging folders are left behind.
        #expect(try fm.contentsOfDirectory(atPath: server.jobsDirectory) == [job.id])
        // state.json is plain JSON with the documented keys.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: job.paths.state))) as! [String: Any]
        #expect(json["state"] as? String == "submitted")
        #expect(json["updated_at"] as? String == "2026-11-18T11:06:40.000Z")  // every file: milliseconds (Timestamp)
        #expect(json["bytes_sent_unquantized"] as? Int == 0)
    }

    @Test func signatureVerifiesAndTamperingFails() throws {
        let dir = try TempDir()
        let server = try Fixtures.federation(in: dir)
        let store = try JobStore(workspace: server)
        let job = try store.submit(jobDirectoryOrArchive: try Fixtures.job(in: dir))
        try store.verify(id: job.id)
        let client = try SiteWorkspace.open(dir.sub("workspaces/demo/site-1"))
        try JobSignature.verify(archive: job.paths.archive, signatureFile: job.paths.signature,
                                publicKey: client.trustedKeys["server"]!)
        // Another key does not verify.
        #expect(throws: WorkspaceError.self) {
            try JobSignature.verify(archive: job.paths.archive, signatureFile: job.paths.signature,
                                    publicKey: client.keys.publicKey)
        }
        // A flipped byte in the archive fails.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: job.paths.archive))
        bytes[bytes.count / 2] ^= 0x01
        let tampered = dir.sub("tampered.tar.gz")
        try bytes.write(to: URL(fileURLWithPath: tampered))
        #expect(throws: WorkspaceError.self) {
            try JobSignature.verify(archive: tampered, signatureFile: job.paths.signature,
                                    publicKey: client.trustedKeys["server"]!)
        }
        try bytes.write(to: URL(fileURLWithPath: job.paths.archive))
        #expect(throws: WorkspaceError.self) { try store.verify(id: job.id) }
        // No signature file: unsigned.
        #expect(throws: WorkspaceError.self) {
            try JobSignature.verify(archive: tampered, signatureFile: dir.sub("none.sig"),
                                    publicKey: server.keys.publicKey)
        }
    }

    @Test func submitAnArchiveAndRefuseInvalidJobs() throws {
        let dir = try TempDir()
        let server = try Fixtures.federation(in: dir)
        let store = try JobStore(workspace: server)
        let jobDir = try Fixtures.job(in: dir)
        let archive = dir.sub("job.zip")
        _ = try JobArchive.pack(directory: jobDir, to: archive, format: .zip)
        let fromArchive = try store.submit(jobDirectoryOrArchive: archive)
        let fromFolder = try store.submit(jobDirectoryOrArchive: jobDir)
        #expect(fromArchive.meta.archiveSHA256 == fromFolder.meta.archiveSHA256)
        try store.verify(id: fromArchive.id)
        // An invalid job is refused with FerryJobs' diagnostics and leaves nothing in the store.
        try dir.write("job/apps/server/app.yaml", "workflow: fedavgg\nrounds: 2\n")
        do {
            _ = try store.submit(jobDirectoryOrArchive: jobDir)
            Issue.record("expected a validation error")
        } catch {
            #expect(error.description.contains("app.yaml:1:"))
        }
        try dir.write("junk.tar.gz", "not an archive")
        #expect(throws: WorkspaceError.self) { try store.submit(jobDirectoryOrArchive: dir.sub("junk.tar.gz")) }
        #expect(throws: WorkspaceError.self) { try store.submit(jobDirectoryOrArchive: dir.sub("missing")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: server.jobsDirectory).sorted()
            == [fromArchive.id, fromFolder.id].sorted())
    }

    @Test func jobsThatDoNotFitTheFederationAreRefused() throws {
        let dir = try TempDir()
        let store = try JobStore(workspace: try Fixtures.federation(in: dir))
        let unknownSite = try Fixtures.job(in: dir, folder: "unknown", clients: "[site-1, site-9]")
        let tooFew = try Fixtures.job(in: dir, folder: "few", clients: "[site-1]", minClients: 2)
        do {
            _ = try store.submit(jobDirectoryOrArchive: unknownSite)
            Issue.record("expected the unknown site to be refused")
        } catch {
            guard case let .notInFederation(_, project, problems, sites) = error else {
                Issue.record("wrong error: \(error)")
                return
            }
            #expect(project == "demo")
            #expect(sites == ["server", "site-1", "site-2"])
            #expect(problems.count == 1 && problems[0].contains("'site-9'"))
            #expect(error.description.contains("site-9") && error.description.contains("hint:"))
        }
        do {
            _ = try store.submit(jobDirectoryOrArchive: tooFew)
            Issue.record("expected min_clients above the deployed clients to be refused")
        } catch {
            #expect(error.description.contains("min_clients is 2"))
        }
        #expect(store.ids().isEmpty)
        let fits = try store.submit(jobDirectoryOrArchive: try Fixtures.job(in: dir, clients: "[site-2]"))
        #expect(fits.meta.sites == ["server", "site-2"])
        #expect(fits.state.sites == ["site-2": "pending"])
    }

    @Test func clientWorkspaceHasNoStore() throws {
        let dir = try TempDir()
        _ = try Fixtures.federation(in: dir)
        let client = try SiteWorkspace.open(dir.sub("workspaces/demo/site-1"))
        #expect(throws: WorkspaceError.self) { try JobStore(workspace: client) }
    }

    @Test func stateTransitionsArePersisted() throws {
        let dir = try TempDir()
        let store = try JobStore(workspace: try Fixtures.federation(in: dir))
        let job = try store.submit(jobDirectoryOrArchive: try Fixtures.job(in: dir))
        #expect(store.submitted().map(\.id) == [job.id])
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        try store.update(id: job.id) { $0.state = .dispatched; $0.sites["site-1"] = "deployed" }
        try store.update(id: job.id, now: start) { $0.state = .running; $0.startedAt = start; $0.round = 1 }
        #expect(store.submitted().isEmpty)
        let later = start.addingTimeInterval(90.75)
        let after = try store.update(id: String(job.id.prefix(18)), now: later) {
            $0.bytesSent += 1000
            $0.bytesSentUnquantized += 4000
            $0.state = .finishedFailed
            $0.reason = "site-2 failed"
            $0.id = "ignored"
        }
        #expect(after.id == job.id)
        let read = try store.state(id: job.id)
        #expect(read == after)
        #expect(read.state == .finishedFailed && read.reason == "site-2 failed")
        #expect(read.startedAt == start && read.round == 1)
        #expect(read.sites["site-1"] == "deployed")
        #expect(read.bytesSent == 1000 && read.bytesSentUnquantized == 4000)
        #expect(read.updatedAt == start.addingTimeInterval(90.75))  // milliseconds are kept
        // A final state gets finished_at; failed and aborted always carry a reason.
        #expect(read.finishedAt == read.updatedAt)
        let aborted = try store.update(id: job.id) { $0.state = .finishedAborted; $0.reason = nil }
        #expect(aborted.reason == "no reason given")
        #expect(try store.state(id: job.id) == aborted)
    }

    @Test func concurrentUpdatesAreNotLost() async throws {
        let dir = try TempDir()
        let store = try JobStore(workspace: try Fixtures.federation(in: dir))
        let id = try store.submit(jobDirectoryOrArchive: try Fixtures.job(in: dir)).id
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask { _ = try? store.update(id: id) { $0.bytesReceived += 1 } }
            }
        }
        #expect(try store.state(id: id).bytesReceived == 20)
    }

    @Test func abortRequest() throws {
        let dir = try TempDir()
        let store = try JobStore(workspace: try Fixtures.federation(in: dir))
        let job = try store.submit(jobDirectoryOrArchive: try Fixtures.job(in: dir))
        #expect(!store.isAbortRequested(id: job.id))
        #expect(try store.abortRequest(id: job.id) == nil)
        let aborted = try store.requestAbort(id: job.id)
        #expect(aborted.abortRequested)
        #expect(store.isAbortRequested(id: job.id))
        #expect(try store.record(id: job.id).abortRequested)
        #expect(try store.abortRequest(id: job.id)?.by == "cli")
        try store.update(id: job.id) { $0.state = .finishedAborted; $0.reason = "aborted by request" }
        #expect(throws: WorkspaceError.self) { try store.requestAbort(id: job.id) }
    }

    @Test func deleteAndClone() throws {
        let dir = try TempDir()
        let store = try JobStore(workspace: try Fixtures.federation(in: dir))
        let job = try store.submit(jobDirectoryOrArchive: try Fixtures.job(in: dir))
        let copy = try store.clone(id: job.id)
        #expect(copy.id != job.id)
        #expect(copy.meta.clonedFrom == job.id)
        #expect(copy.meta.source == "clone:\(job.id)")
        #expect(copy.meta.archiveSHA256 == job.meta.archiveSHA256)
        #expect(copy.state.state == .submitted)
        try store.verify(id: copy.id)

        try store.update(id: copy.id) { $0.state = .running }
        #expect(throws: WorkspaceError.self) { try store.delete(id: copy.id) }
        try store.delete(id: copy.id, force: true)
        try store.delete(id: job.id)
        #expect(store.ids().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory).isEmpty)
        #expect(throws: WorkspaceError.self) { try store.record(id: job.id) }
    }

    @Test func idPrefixesAndDamagedJobs() throws {
        let dir = try TempDir()
        let store = try JobStore(workspace: try Fixtures.federation(in: dir))
        let a = try store.submit(jobDirectoryOrArchive: try Fixtures.job(in: dir),
                                 now: Date(timeIntervalSince1970: 1_800_000_000))
        let b = try store.submit(jobDirectoryOrArchive: try Fixtures.job(in: dir),
                                 now: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(store.ids() == [a.id, b.id].sorted())
        #expect(try store.resolve(id: a.id) == a.id)
        // The shortest prefix of a that b does not share resolves to a.
        let shared = zip(a.id, b.id).prefix { $0 == $1 }.count
        #expect(try store.resolve(id: String(a.id.prefix(shared + 1))) == a.id)
        do {
            _ = try store.resolve(id: "1999")
            Issue.record("expected not found")
        } catch {
            if case .jobNotFound = error {} else { Issue.record("wrong error \(error)") }
        }
        do {
            _ = try store.resolve(id: String(a.id.prefix(15)))
            Issue.record("expected ambiguity")
        } catch {
            if case let .ambiguousJobID(_, matches) = error { #expect(matches.count == 2) } else { Issue.record("\(error)") }
        }
        try FileManager.default.removeItem(atPath: b.paths.meta)
        let scan = store.scan()
        #expect(scan.jobs.map(\.id) == [a.id])
        #expect(scan.damaged.map(\.id) == [b.id])
        #expect(throws: WorkspaceError.self) { try store.delete(id: b.id) }
        try store.delete(id: b.id, force: true)
    }

    @Test func submissionTargetsOfASweepFolder() throws {
        let dir = try TempDir()
        try Fixtures.job(in: dir, folder: "sweep/b", name: "b")
        try Fixtures.job(in: dir, folder: "sweep/a", name: "a")
        try dir.write("sweep/notes/readme.txt", "x")
        #expect(JobStore.submissionTargets(dir.sub("sweep")) == [dir.sub("sweep/a"), dir.sub("sweep/b")])
        #expect(JobStore.submissionTargets(dir.sub("sweep/a")) == [dir.sub("sweep/a")])
        #expect(JobStore.submissionTargets(dir.sub("nothing")).isEmpty)
    }

    @Test func jobIDsSortByTime() {
        let early = JobID.make(at: Date(timeIntervalSince1970: 1_000_000_000))
        let late = JobID.make(at: Date(timeIntervalSince1970: 1_000_000_001))
        #expect(early < late)
        #expect(early.hasPrefix("20010909-014640-"))
        #expect(JobID.isValid(early))
        #expect(!JobID.isValid("20010909-014640-ABCDEF"))
        #expect(!JobID.isValid("../etc"))
    }

    @Test func pathsFollowTheLayout() {
        let p = JobPaths(directory: "/ws/jobs/x")
        #expect(p.roundRecord(3) == "/ws/jobs/x/rounds/round-0003.json")
        #expect(p.log(site: "site-1") == "/ws/jobs/x/logs/site-1.log")
        #expect(p.finalModel == "/ws/jobs/x/models/final.safetensors")
        #expect(p.globalModel(round: 2) == "/ws/jobs/x/models/global-round-2.safetensors")
    }
}
