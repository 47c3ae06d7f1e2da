import FerryTransfer
import FerryQuant
import Foundation

/// The kinds of messages sites exchange (metadata key `ferry.kind`). See docs/runtime.md, "Messages".
public enum MessageKind: String, Codable, Sendable, CaseIterable {
    /// Server → client: the signed job archive.
    case deploy
    /// Server → client: one of the job's large files kept beside its archive (`ferry.path`), sent to the
    /// sites whose app folder holds it; the deployment completes once they have arrived.
    case file
    /// Server → client: run a task (payload: the global model, or a small descriptor when there is none).
    case task
    /// Client → server: a task's outcome (payload: the output model, or a small report on failure),
    /// also the answer to a deployment (`ferry.task` = `deploy`).
    case result
    /// Server → client: stop the job.
    case abort
    /// Client → server: the client's log of a job (replaces the previous copy).
    case log
    /// Client → server: the latest live metrics of a running task (replaces the previous copy).
    case metrics
}

/// Metadata keys carried in every transfer manifest of a ferry message.
public enum MessageKey {
    /// ``MessageKind`` raw value.
    public static let kind = "ferry.kind"
    /// Message id: deterministic per logical message, so a re-sent message is recognised.
    public static let message = "ferry.message"
    /// Job id.
    public static let job = "ferry.job"
    /// Sending site's name.
    public static let site = "ferry.site"
    /// Round number (1-based) of a task or result.
    public static let round = "ferry.round"
    /// Total number of rounds of the job.
    public static let rounds = "ferry.rounds"
    /// Task name: `deploy`, or `train-r0001` (fedavg), `train-r0001-s02` (cyclic step 2).
    public static let task = "ferry.task"
    /// Deploy: the client app the site runs.
    public static let app = "ferry.app"
    /// Deploy: base64 Ed25519 signature of the archive bytes by the server key.
    public static let signature = "ferry.signature"
    /// Deploy: the job's `files.json` (its text), when the app's folder holds files kept beside the
    /// archive; they arrive as ``MessageKind/file`` messages.
    public static let files = "ferry.files"
    /// Deploy: the text of `files.sig`, the server's signature of ``files``.
    public static let filesSignature = "ferry.files_signature"
    /// File: the file's path in the job folder.
    public static let path = "ferry.path"
    /// Task: `present` when the payload is a model, `none` when the client initialises its own.
    public static let model = "ferry.model"
    /// Result: `ok` or `failed`; `paused` for a notice that the task waits for disk space, `pending` for a
    /// notice that the deployment waits for the site operator's approval (notices are not outcomes).
    public static let status = "ferry.status"
    /// Result: the executor's result JSON (`{"num_samples": N, "metrics": {...}}`).
    public static let result = "ferry.result"
    /// Result: why the task failed (exit code, timeout, stderr tail).
    public static let error = "ferry.error"
    /// Result: the executor's run time in seconds.
    public static let duration = "ferry.duration_s"
    /// Abort: the reason.
    public static let reason = "ferry.reason"
    /// Task: the round's config, a JSON object (server app `round_config:`); absent when there is none.
    public static let config = "ferry.config"
    /// Task: `train` or `evaluate` (``TaskKind``); absent means `train`.
    public static let taskKind = "ferry.task_kind"
    /// Task: `true` when it is the site's last task of the job, `false` when more follow; absent: the
    /// task of the last round is the last.
    public static let lastTask = "ferry.last_task"
    /// Result: the privacy filters the site applied, a JSON array of ``AppliedFilter`` (docs/filters.md);
    /// absent when there were none.
    public static let filters = "ferry.filters"
}

/// A message waiting in a site's outbox, persisted as `outbox/<id>.json` until every recipient has it.
struct OutgoingMessage: Codable, Sendable, Equatable {
    /// Deterministic id (see ``MessageKey/message``); also the outbox file name.
    var id: String
    var kind: MessageKind
    var job: String
    /// Absolute path of the file to send.
    var payload: String
    /// Site names the message goes to (one transfer read once, written to every inbox).
    var recipients: [String]
    /// Manifest metadata (ferry.* keys).
    var metadata: [String: String]
    /// Quantization format applied on the way (`nf4`, `fp16`, …), nil for none.
    var quantize: QuantFormat?
    /// `file` or `container`.
    var mode: TransferMode
    var chunkSize: Int
    var window: Int
    /// The window in bytes; replaces ``window`` when set (nil in specs of older versions).
    var windowBytes: Int64?
    /// Remove the payload once sent (a copy made for this message only).
    var removePayloadWhenSent: Bool
    var createdAt: Date
    /// The site's policy requires the filter (`filters.to_server` of policy.yaml): when it cannot be
    /// applied the send fails instead of going at full precision. Absent: false.
    var filterRequired: Bool? = nil
}

/// What became of a sent message: written as `outbox/sent/<id>.json`.
struct SentRecord: Codable, Sendable, Equatable {
    var id: String
    var job: String
    var kind: MessageKind
    var recipients: [String]
    /// Bytes written to each inbox (the wire bytes, after quantization).
    var bytesOnWire: Int64
    /// Size of the payload before quantization.
    var sourceBytes: Int64
    var finishedAt: Date
    /// Set when the send failed or was cancelled.
    var error: String?
    /// What the send had to do differently from what was asked (e.g. "filter unavailable: nf4 …").
    var notes: [String]?
    /// Every byte the send wrote to the share: its chunks once per inbox, or once for the inboxes of a
    /// share group (broadcast once), plus manifests and records.
    var shareBytes: Int64?
}

/// A message taken out of the inbox.
struct IncomingMessage: Sendable {
    var transferID: String
    /// Sender name from the transfer manifest.
    var sender: String
    var metadata: [String: String]
    /// The received (and de-quantized) payload file; the handler moves or removes it.
    var path: String
    /// Bytes that crossed the share.
    var wireBytes: Int64
    /// Bytes of the restored payload.
    var outputBytes: Int64
    /// The key (base64) that signed the transfer, nil when unsigned.
    var signer: String?

    var kind: MessageKind? { metadata[MessageKey.kind].flatMap(MessageKind.init(rawValue:)) }
    var job: String? { metadata[MessageKey.job] }
    var site: String { metadata[MessageKey.site] ?? sender }
    var round: Int? { metadata[MessageKey.round].flatMap { Int($0) } }
    var task: String? { metadata[MessageKey.task] }
    var messageID: String { metadata[MessageKey.message] ?? transferID }
}
