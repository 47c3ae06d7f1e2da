import FerryQuant

/// How a transfer cuts its stream into chunks.
public enum TransferMode: String, Codable, Sendable, CaseIterable {
    /// The bytes of a file, in fixed-size chunks.
    case file
    /// A safetensors stream cut on tensor boundaries: small tensors grouped up to the chunk size,
    /// large ones split into chunk-size pieces.
    case container
}

/// Settings shared by ``TransferSender`` and ``TransferReceiver``.
public struct TransferOptions: Sendable {
    /// Chunking mode (sender).
    public var mode: TransferMode = .file
    /// Maximum payload bytes per chunk (sender). Default ``defaultChunkSize`` (2 MiB).
    public var chunkSize: Int = Self.defaultChunkSize
    /// Maximum number of published, unconsumed chunks per receiver (sender). Default 4.
    public var window: Int = 4
    /// Maximum published, unconsumed bytes per receiver (sender); when set it replaces ``window``
    /// by `windowBytes / chunkSize` chunks (1 … 1024). On a share whose views may be stale for a
    /// cache period, a window that holds a cache period's worth of stream keeps the sender writing
    /// while the receiver's view catches up; the share then holds at most this many bytes per receiver.
    public var windowBytes: Int64? = nil
    /// Quantize the model on the way (sender); the receiver restores the source dtypes.
    public var quantize: QuantFormat? = nil
    /// How often folders are polled when nothing wakes the process up earlier.
    public var pollInterval: Duration = .milliseconds(200)
    /// Use polling only, never inotify (network shares whose changes inotify does not see).
    public var pollingOnly: Bool = false
    /// A transfer with no activity for this long is abandoned: the sender gives up, the receiver deletes it.
    public var expire: Duration = .seconds(3600)
    /// Stream bytes the receiver takes between two fsyncs of its partial output (receiver). Chunks
    /// are acknowledged as soon as they are written; after a crash of the receiving host (not of the
    /// process) the transfer resumes from the last fsync. Default 256 MiB.
    public var checkpointInterval: Int64 = 256 << 20
    /// Senders whose announcement files (`INBOX/.ferry-announce/<sender>`) the receiver reads on
    /// every pass, by name (receiver). Announcements of other senders are found by the sweep.
    public var expectedSenders: [String] = []
    /// How often the receiver lists its inbox to find transfers it was not told about (senders of
    /// older versions, unknown senders, lost announcements) and expired ones, when it polls only
    /// (receiver). With inotify (a local disk), or without ``expectedSenders``, it lists on every pass.
    /// Default 60 s.
    public var sweepInterval: Duration = .seconds(60)
    /// Free-form key/values recorded in the manifest (job id, message kind, round…).
    public var metadata: [String: String] = [:]
    /// The sender's name recorded in the manifest (default: the host name).
    public var senderName: String? = nil
    /// Where the sender keeps its resume state; default: beside the source file.
    public var stateDirectory: String? = nil
    /// `sealed` (default): the sender seals to its recipients' keys (protocol version 2) and the
    /// receiver refuses unencrypted transfers. `none` (debugging): the sender sends version 1 in the
    /// clear, and the receiver also accepts version 1. A downgrade needs `none` on both sides.
    public var encryption: TransferEncryptionMode = .sealed
    /// The chunk AEAD of sealed transfers (sender); default ``TransferAEAD/preferred``.
    public var aead: TransferAEAD? = nil
    /// Broadcast once (sender, sealed transfers): the root of the share that holds the inboxes. When
    /// two or more inboxes lie below it, every chunk is written once into
    /// `<root>/.ferry-broadcast/<transfer-id>/` and each of those inboxes gets a signed record that
    /// points there (docs/transfer-protocol.md, section 14); the recipient keys must then be given one
    /// per inbox, in the inboxes' order. Inboxes outside the root get their own copy as usual.
    public var broadcastShare: String? = nil

    /// Default options: file mode, 2 MiB chunks, window 4, polling every 200 ms with inotify, expiry 1 h.
    public init() {}

    /// The chunk size `ferry transfer send`, `ferry bench transfer` and jobs use when given none: 2 MiB.
    /// Each side passes a chunk over its bytes three or four times (read, seal or open, copy, write), and
    /// a 2 MiB chunk is still in the CPU's cache for the next pass where an 8 MiB one is not: a sealed
    /// 1 GiB transfer takes about 20 % less time (2.0–2.4× `cp` against 2.8–2.9×) and less memory per side
    /// than with 8 MiB chunks, and a transfer through an sshfs share is as fast (docs/benchmarks.md).
    /// 1 MiB chunks cost more in per-file work (create, rename, delete) than they save.
    public static let defaultChunkSize = 2 << 20

    /// The byte window `ferry transfer send` and jobs use when given neither a chunk window nor a byte
    /// window: 128 MiB, 64 chunks of the default 2 MiB. A share whose views are stale for about a second
    /// (sshfs, NFS with `lookupcache=positive`) then keeps the stream flowing at some 100 MB/s, and holds
    /// at most 128 MiB per receiver. Memory does not depend on the window (one chunk buffer per side).
    public static let defaultWindowBytes: Int64 = 128 << 20

    /// The window in chunks: ``windowBytes`` divided by the chunk size when set, else ``window``.
    public var chunkWindow: Int {
        guard let windowBytes else { return window }
        return Int(min(1024, max(1, windowBytes / Int64(max(1, chunkSize)))))
    }

    func validate() throws(TransferError) {
        guard chunkSize >= 1, chunkSize <= 1 << 30 else {
            throw .invalidOption("chunk size must be between 1 B and 1 GiB (got \(chunkSize) B)")
        }
        guard window >= 1, window <= 1024 else {
            throw .invalidOption("window must be between 1 and 1024 chunks (got \(window))")
        }
        if let windowBytes, windowBytes < 1 {
            throw .invalidOption("window bytes must be at least 1 B (got \(windowBytes) B)")
        }
        guard pollInterval > .zero else { throw .invalidOption("poll interval must be positive") }
        guard expire > .zero else { throw .invalidOption("expiry time must be positive") }
        guard checkpointInterval >= 1 else { throw .invalidOption("checkpoint interval must be at least 1 B") }
    }
}
