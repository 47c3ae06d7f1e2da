import FerrySupport
import FerryWorkspace
import Foundation

/// The job's large files at deployment: each client receives those of its own app folder, by the
/// chunked transfer, as `file` messages beside the deployment (docs/runtime.md, "Large files").
extension ServerJob {
    /// The files kept beside the archive (`files/`) that `app`'s folder holds, with the text of
    /// `files.json` and `files.sig` for the client to check them; nil when there are none.
    func largeFiles(of app: String) throws -> (files: [ExternalFiles.File], manifest: String, signature: String)? {
        let paths = store.paths(id)
        guard FileSystem.exists(paths.externalManifest) else { return nil }
        let (text, signature) = try ExternalFiles.signedText(paths)
        let manifest = try JSONDecoder().decode(ExternalFiles.self, from: Data(text.utf8))
        let files = manifest.files(under: "apps/\(app)")
        return files.isEmpty ? nil : (files, text, signature)
    }

    /// Queues one file-mode transfer (no filter) per file to `sites`; idempotent by message id.
    func sendLargeFiles(_ files: [ExternalFiles.File], app: String, to sites: [String]) throws {
        let plain = WireSettings.plain
        for (index, file) in files.enumerated() {
            try outbox.enqueue(OutgoingMessage(
                id: "\(id).file.\(app).\(index + 1)", kind: .file, job: id,
                payload: FileSystem.join(store.paths(id).externalDirectory, file.path), recipients: sites,
                metadata: metadata(.file, task: "deploy", extra: [MessageKey.app: app, MessageKey.path: file.path]),
                quantize: nil, mode: plain.mode, chunkSize: plain.chunkSize, window: plain.window,
                windowBytes: plain.windowBytes, removePayloadWhenSent: false, createdAt: Date()))
        }
    }
}
