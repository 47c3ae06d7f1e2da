import FerrySupport
import Foundation
import Logging
import Synchronization

/// Sends messages and receives them; implemented over FerryTransfer by ``TransferTransport``.
protocol MessageTransport: Sendable {
    /// Sends `message` to `inboxes` (one read of the payload for all of them); blocks until every
    /// inbox has acknowledged everything, or throws. `stateDirectory` keeps what is needed to resume
    /// the same transfer after a crash. `isCancelled` is polled while waiting.
    func send(_ message: OutgoingMessage, inboxes: [String], stateDirectory: String,
              isCancelled: @escaping @Sendable () -> Bool) throws -> SendOutcome
    /// One non-blocking pass over the inbox: the messages completed in it.
    func receive() throws -> [IncomingMessage]
}

/// Byte counts of a completed send.
struct SendOutcome: Sendable, Equatable {
    /// Bytes written to each inbox.
    var bytesOnWire: Int64
    /// Payload size before quantization.
    var sourceBytes: Int64
    /// What the send had to do differently from what was asked (an unavailable filter, say).
    var notes: [String] = []
    /// Every byte written to the share (chunks, manifests, records).
    var shareBytes: Int64 = 0
}

/// The persistent outbox of a site: `outbox/<id>.json` specs, each sent on its own thread (a sender
/// blocks on its receivers' windows), `outbox/sent/<id>.json` records once done, and
/// `outbox/state/<id>/` for the transfer layer's resume state.
///
/// Enqueueing is idempotent by message id, and every spec still in the folder at start-up is sent
/// again (the transfer layer resumes it), so a message is never lost across a crash.
final class Outbox: Sendable {
    let directory: String
    private let transport: any MessageTransport
    private let inboxes: @Sendable (String) -> String?
    private let logger: Logger
    private let onChange: @Sendable () -> Void
    private struct State {
        var running: Set<String> = []
        var cancelled: Set<String> = []
        var finished: [SentRecord] = []
        var done: Set<String> = []
    }
    private let state = Mutex(State())

    /// - Parameters:
    ///   - directory: `<workspace>/outbox`.
    ///   - inboxes: maps a site name to its inbox path.
    ///   - onChange: called (from any thread) when a send finishes, to wake the loop.
    init(directory: String, transport: any MessageTransport, inboxes: @escaping @Sendable (String) -> String?,
         logger: Logger, onChange: @escaping @Sendable () -> Void) throws {
        self.directory = directory
        self.transport = transport
        self.inboxes = inboxes
        self.logger = logger
        self.onChange = onChange
        try FileSystem.makeDirectory(directory)
        try FileSystem.makeDirectory(FileSystem.join(directory, "sent"))
        try FileSystem.makeDirectory(FileSystem.join(directory, "state"))
    }

    private func specPath(_ id: String) -> String { "\(directory)/\(id).json" }
    private func sentPath(_ id: String) -> String { "\(directory)/sent/\(id).json" }

    /// Whether `id` was enqueued (pending or sent).
    func contains(_ id: String) -> Bool { FileSystem.exists(specPath(id)) || FileSystem.exists(sentPath(id)) }

    /// Removes the record of a sent message that will not be asked about again (a superseded live
    /// metrics snapshot), so such records do not pile up.
    func forget(_ id: String) { FileSystem.remove(sentPath(id)) }

    /// The record of a sent message, if it was sent.
    func sentRecord(_ id: String) -> SentRecord? { try? JSONFile.readIfPresent(SentRecord.self, from: sentPath(id)) }

    /// Persists `message` (no-op when a message with the same id was already enqueued) and starts it.
    func enqueue(_ message: OutgoingMessage) throws {
        guard !contains(message.id) else { return }
        try JSONFile.write(message, to: specPath(message.id))
        logger.info("queued \(message.kind.rawValue) \(message.id) to \(message.recipients.joined(separator: ","))")
        startPending()
    }

    /// Starts a thread for every persisted spec that is not running yet.
    func startPending() {
        for name in FileSystem.list(directory) where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let id = String(name.dropLast(5))
            let claimed = state.withLock { s -> Bool in
                if s.running.contains(id) || s.cancelled.contains(id) { return false }
                s.running.insert(id)
                return true
            }
            guard claimed else { continue }
            guard let message = try? JSONFile.read(OutgoingMessage.self, from: specPath(id)) else {
                logger.error("outbox: unreadable message spec \(specPath(id)); moved aside")
                try? FileSystem.move(specPath(id), to: specPath(id) + ".bad")
                state.withLock { _ = $0.running.remove(id) }
                continue
            }
            let thread = Thread { [self] in self.send(message) }
            thread.name = "ferry-send-\(id)"
            thread.start()
        }
    }

    /// Drops the pending messages of `job` (their sends stop at the next poll).
    func cancel(job: String) {
        for name in FileSystem.list(directory) where name.hasSuffix(".json") {
            let id = String(name.dropLast(5))
            guard let message = try? JSONFile.read(OutgoingMessage.self, from: specPath(id)), message.job == job else { continue }
            state.withLock { _ = $0.cancelled.insert(id) }
            finish(message, outcome: nil, error: "cancelled: job finished")
        }
    }

    /// Sent records completed since the last call.
    func takeFinished() -> [SentRecord] {
        state.withLock { s in
            defer { s.finished = [] }
            return s.finished
        }
    }

    /// Number of sends in progress.
    var runningCount: Int { state.withLock { $0.running.count } }

    private func send(_ message: OutgoingMessage) {
        var targets: [String] = []
        for site in message.recipients {
            guard let inbox = inboxes(site) else {
                finish(message, outcome: nil, error: "unknown recipient site '\(site)'")
                return
            }
            targets.append(inbox)
        }
        let stateDir = "\(directory)/state/\(message.id)"
        let id = message.id
        var waitingForSpace = false
        while true {
            do {
                try FileSystem.makeDirectory(stateDir)
                let outcome = try transport.send(message, inboxes: targets, stateDirectory: stateDir) { [self] in
                    self.state.withLock { $0.cancelled.contains(id) }
                }
                finish(message, outcome: outcome, error: nil)
            } catch {
                let cancelled = state.withLock { $0.cancelled.contains(id) }
                if cancelled {
                    state.withLock { _ = $0.running.remove(id) }
                    onChange()
                    return
                }
                if DiskSpace.isFull(error) {
                    // A full disk (ours or a recipient's) is not a failed send: the transfer resumes from its
                    // state once there is room (docs/reliability.md).
                    if !waitingForSpace { logger.warning("send \(message.id) waits for disk space: \(error)") }
                    waitingForSpace = true
                    Syscall.sleep(Self.diskFullRetry)
                    continue
                }
                logger.error("send \(message.id) failed: \(error)")
                finish(message, outcome: nil, error: "\(error)")
            }
            return
        }
    }

    /// How often a send stopped by a full disk tries again.
    static let diskFullRetry: Duration = .seconds(1)

    private func finish(_ message: OutgoingMessage, outcome: SendOutcome?, error: String?) {
        let first = state.withLock { $0.done.insert(message.id).inserted }
        guard first else {
            state.withLock { _ = $0.running.remove(message.id) }
            return
        }
        let record = SentRecord(id: message.id, job: message.job, kind: message.kind, recipients: message.recipients,
                                bytesOnWire: outcome?.bytesOnWire ?? 0, sourceBytes: outcome?.sourceBytes ?? 0,
                                finishedAt: Date(), error: error, notes: outcome?.notes ?? [], shareBytes: outcome?.shareBytes)
        do {
            try JSONFile.write(record, to: sentPath(message.id))
            FileSystem.remove(specPath(message.id))
            FileSystem.remove("\(directory)/state/\(message.id)")
            if message.removePayloadWhenSent { FileSystem.remove(message.payload) }
            if error == nil {
                logger.info("sent \(message.kind.rawValue) \(message.id): \(outcome?.bytesOnWire ?? 0) bytes per inbox (\(outcome?.sourceBytes ?? 0) before filters)")
            }
        } catch {
            logger.error("outbox: cannot record sent message \(message.id): \(error)")
        }
        state.withLock { s in
            s.running.remove(message.id)
            s.finished.append(record)
        }
        onChange()
    }
}
