import Crypto
import FerrySupport
import FerryWorkspace
import Foundation

/// `jobs/<id>/pending-files.json` on a client: the job's large files its app folder holds, from the
/// server's signed `files.json`; the deployment completes once they have all arrived.
struct PendingFiles: Codable, Sendable {
    var app: String
    /// The entries of `files.json` under the app's folder (and the archive they belong to).
    var files: ExternalFiles
}

/// The large files of a deployment (docs/runtime.md, "Large files"): the server sends each file of
/// the client's app folder that it keeps beside the archive as a `file` message (a file-mode
/// transfer, no filter). They wait in `jobs/<id>/files/` until the deployment has them all; each is
/// then checked against the signed `files.json` and linked into the unpacked job before the job is
/// loaded and accepted. A watcher killed at any point finds the received files and the pending
/// record again: a half-received file is the transfer layer's and never used.
extension ClientRole {
    /// Whether the deployment of `job` waits for large files: when the deploy message names some in
    /// this app's folder, records them (`pending-files.json`, after checking `files.json`'s signature
    /// with the server's key and that it belongs to the archive) and completes at once if they are here.
    func awaitFiles(_ message: IncomingMessage, job: String, app: String, archiveSHA256: String,
                    key: Curve25519.Signing.PublicKey) throws -> Bool {
        guard let text = message.metadata[MessageKey.files] else { return false }
        let manifest = try ExternalFiles.signed(Array(text.utf8), signature: message.metadata[MessageKey.filesSignature] ?? "",
                                                publicKey: key, archiveSHA256: archiveSHA256, label: "files.json of job \(job)")
        var mine = manifest
        mine.files = manifest.files(under: "apps/\(app)")
        guard !mine.files.isEmpty else { return false }
        try JSONFile.write(PendingFiles(app: app, files: mine), to: FileSystem.join(jobDirectory(job), ClientFiles.pendingFiles))
        let bytes = mine.files.reduce(Int64(0)) { $0 + $1.size }
        log(job, "deployment verified and unpacked; waiting for \(mine.files.count) large file(s) of app '\(app)' (\(ByteCount.format(bytes)))")
        return !settleFileDeployment(job)
    }

    /// Keeps a received large file in `jobs/<id>/files/<path>` (a rename: nothing is copied).
    func receiveFile(_ message: IncomingMessage, job: String) throws {
        let dir = jobDirectory(job)
        guard let raw = message.metadata[MessageKey.path], let path = ExternalFiles.normalized(raw), path == raw else {
            FileSystem.remove(message.path)
            throw RuntimeError.badMessage("file message of job \(job) without a valid ferry.path")
        }
        if ["deploy.json", "refused.json", "aborted.json"].contains(where: { FileSystem.exists(FileSystem.join(dir, $0)) }) {
            logger.info("job \(job): late or duplicate file \(path) ignored")
            FileSystem.remove(message.path)
            return
        }
        let destination = FileSystem.join(dir, ClientFiles.receivedFiles, path)
        try FileSystem.makeDirectory((destination as NSString).deletingLastPathComponent)
        try FileSystem.move(message.path, to: destination)
        log(job, "received \(path) (\(ByteCount.format(FileSystem.size(destination))))")
        _ = settleFileDeployment(job)
    }

    /// Completes the deployments whose large files have all arrived (after a restart too), and finishes
    /// those a watcher killed after their outcome was recorded left: `pending-files.json` goes only once
    /// the answer is queued, so the answer is queued again (a no-op when it was) before it goes.
    func settleFileDeployments() {
        for job in FileSystem.list(workspace.jobsDirectory) where !job.hasPrefix(".") {
            let dir = jobDirectory(job)
            if FileSystem.exists(FileSystem.join(dir, "deploy.json")) || FileSystem.exists(FileSystem.join(dir, "refused.json")) {
                if FileSystem.exists(FileSystem.join(dir, ClientFiles.pendingFiles)), !FileSystem.exists(FileSystem.join(dir, "aborted.json")) {
                    do {
                        try answerDeploymentAgain(job: job)
                    } catch {
                        log(job, "cannot answer the deployment yet: \(error)", error: true)  // tried again on the next pass
                        continue
                    }
                }
                for name in [ClientFiles.receivedFiles, ClientFiles.pendingFiles] where FileSystem.exists(FileSystem.join(dir, name)) {
                    FileSystem.remove(FileSystem.join(dir, name))
                }
            } else if FileSystem.exists(FileSystem.join(dir, ClientFiles.pendingFiles)) {
                _ = settleFileDeployment(job)
            }
        }
    }

    /// Places the large files into the unpacked job and accepts it, when they have all arrived; refuses
    /// the job when one does not match `files.json`. Returns whether the deployment is settled.
    @discardableResult
    func settleFileDeployment(_ job: String) -> Bool {
        let dir = jobDirectory(job)
        guard !FileSystem.exists(FileSystem.join(dir, "deploy.json")), !FileSystem.exists(FileSystem.join(dir, "refused.json")),
              !FileSystem.exists(FileSystem.join(dir, "aborted.json")),
              let pending = try? JSONFile.readIfPresent(PendingFiles.self, from: FileSystem.join(dir, ClientFiles.pendingFiles)) else {
            return FileSystem.exists(FileSystem.join(dir, "deploy.json")) || FileSystem.exists(FileSystem.join(dir, "refused.json"))
        }
        let received = JobPaths(directory: dir)
        guard pending.files.files.allSatisfy({ FileSystem.exists(FileSystem.join(received.externalDirectory, $0.path)) }) else {
            return false
        }
        do {
            do {
                for file in pending.files.files { try file.check(at: FileSystem.join(received.externalDirectory, file.path)) }
                try pending.files.place(from: received, into: FileSystem.join(dir, "job"))
                try accept(job: job, app: pending.app)
            } catch where DiskSpace.isFull(error) {
                FileSystem.remove(FileSystem.join(dir, "deploy.json"))
                FileSystem.remove(FileSystem.join(dir, "plan.json"))
                log(job, "cannot complete the deployment yet: \(error)", error: true)  // tried again on the next pass
                return false
            } catch {
                try refuse(job: job, reason: "\(error)")
                return true
            }
        } catch {
            log(job, "cannot record the deployment yet: \(error)", error: true)
            return false
        }
        FileSystem.remove(FileSystem.join(dir, ClientFiles.receivedFiles))
        FileSystem.remove(FileSystem.join(dir, ClientFiles.pendingFiles))
        return true
    }
}
