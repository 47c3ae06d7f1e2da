/// Progress of one transfer, reported while it runs.
public struct TransferProgress: Sendable {
    /// The transfer.
    public var transferID: String
    /// Stream bytes done (sender: published to every receiver; receiver: verified and written).
    public var bytes: Int64
    /// Stream bytes in all.
    public var totalBytes: Int64
    /// Chunks done.
    public var chunks: Int
    /// Chunks in all.
    public var chunkCount: Int
    /// Container mode, receiver: the tensors whose last byte arrived with this chunk, in stream order,
    /// so they can be used before the transfer ends (their bytes are in the partial stream).
    public var tensorsCompleted: [String] = []
}

/// What a sender run did.
public struct TransferSummary: Sendable {
    /// The transfer id (also the folder name in every inbox).
    public var transferID: String
    /// Size of the source file.
    public var sourceBytes: Int64
    /// Stream bytes per receiver (after filters): the bytes on the wire for one receiver.
    public var streamBytes: Int64
    /// Chunk payload bytes this run wrote into all inboxes together.
    public var wireBytesWritten: Int64
    /// Chunks in the stream.
    public var chunkCount: Int
    /// Receivers that acknowledged the whole transfer.
    public var receivers: Int
    /// How many times the source was read (and quantized) in this run: 1 for a broadcast to N inboxes.
    public var sourcePasses: Int
    /// Stream bytes produced by the source (and filters) in this run.
    public var producedBytes: Int64
    /// The transfer resumed a previous, interrupted run.
    public var resumed: Bool
    /// Wall time of the run.
    public var elapsed: Duration
    /// Whether the transfer was sealed (protocol version 2); false for `encryption: none`.
    public var sealed: Bool = false
    /// Every byte this run wrote to the inboxes and the shared area: chunk files (header, info and
    /// payload), manifests, broadcast records and final records.
    public var shareBytesWritten: Int64 = 0
    /// Receivers that read one shared copy of the chunks (broadcast once); 0 when every inbox got its own.
    public var broadcastRecipients: Int = 0
    /// Chunks written over a spare (a consumed chunk's file, docs/transfer-protocol.md §4a) rather than
    /// into a new file.
    public var sparesReused: Int = 0
    /// ``streamBytes`` / ``sourceBytes``.
    public var ratio: Double { sourceBytes > 0 ? Double(streamBytes) / Double(sourceBytes) : 1 }
}

/// A transfer the receiver completed: verified, undone filters, output renamed into place.
public struct ReceivedTransfer: Sendable, Equatable {
    /// The transfer id.
    public var transferID: String
    /// Sender name from the manifest.
    public var sender: String
    /// Metadata from the manifest (job id, message kind, round…).
    public var metadata: [String: String]
    /// Path of the output file.
    public var outputPath: String
    /// Stream bytes received (the bytes on the wire).
    public var streamBytes: Int64
    /// Size of the output file.
    public var outputBytes: Int64
    /// Size of the sender's source file.
    public var sourceBytes: Int64
    /// Mode of the transfer.
    public var mode: TransferMode
    /// Filters undone, in the sender's order.
    public var filters: [TransferFilter]
    /// The final record carried a valid signature.
    public var signed: Bool
    /// The key (base64) whose valid signature the final record carried, nil when unsigned: who really
    /// sent the transfer, whatever its manifest's `sender` says.
    public var signerPublicKey: String? = nil
    /// Whether the transfer was sealed (protocol version 2); false for an unencrypted one.
    public var sealed: Bool = false
    /// A sealed transfer whose content key was wrapped for the receiver's previous key (sent before
    /// the receiver's key rotation reached the sender), not its current one.
    public var openedWithPreviousKey: Bool = false
    /// Chunk files that arrived torn (by a crash of the host that held them) and were published again
    /// by the sender (the torn-chunk rule, docs/transfer-protocol.md section 9a).
    public var damagedChunksResent: Int = 0
}

/// A transfer the receiver refused.
public struct FailedTransfer: Sendable, Equatable {
    /// The transfer id (the folder name).
    public var transferID: String
    /// Sender name, when the manifest could be read.
    public var sender: String?
    /// Why it was refused.
    public var reason: String
}

/// The outcome of one receiver pass.
public struct ReceivePass: Sendable {
    /// Transfers completed in this pass.
    public var completed: [ReceivedTransfer] = []
    /// Transfers refused in this pass.
    public var failed: [FailedTransfer] = []
    /// Abandoned transfers deleted in this pass.
    public var expired: [String] = []
}
