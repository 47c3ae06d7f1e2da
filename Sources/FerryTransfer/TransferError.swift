import FerrySupport

/// Errors of the transfer protocol, each telling the user what to do about it.
public enum TransferError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The source file cannot be used.
    case invalidSource(path: String, reason: String)
    /// An inbox or output folder is missing or unusable.
    case invalidFolder(path: String, reason: String)
    /// An option has an impossible value.
    case invalidOption(String)
    /// A key file cannot be read or decoded.
    case invalidKey(path: String, reason: String)
    /// An X25519 (encryption) key file or text cannot be read or decoded.
    case invalidEncryptionKey(path: String, reason: String)
    /// The receiver of `inbox` refused the transfer and wrote `reason` in its `failed` record.
    case refused(inbox: String, transferID: String, reason: String)
    /// Nothing moved for longer than the expiry time.
    case expired(inbox: String, transferID: String, idle: String)
    /// A file of the protocol could not be read, written or removed.
    case io(path: String, operation: String, detail: String)
    /// The source produced fewer or more bytes than announced.
    case sourceLengthChanged(path: String, expected: Int64, got: Int64)
    /// Container mode or a quantize filter was asked for a file that is not a safetensors model.
    case notAContainer(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidSource(path, reason):
            return "\(path): cannot send: \(reason)"
        case let .invalidFolder(path, reason):
            return "\(path): \(reason)"
        case let .invalidOption(text):
            return text
        case let .invalidKey(path, reason):
            return "\(path): invalid key file: \(reason) (expected an Ed25519 key: 32 raw bytes, or 64 hex characters, or base64 of 32 bytes)"
        case let .invalidEncryptionKey(path, reason):
            return "\(path): invalid encryption key: \(reason) (expected an X25519 key: 32 raw bytes, or 64 hex characters, or base64 of 32 bytes; `ferry transfer keygen` makes one)"
        case let .refused(inbox, id, reason):
            return "\(inbox): the receiver refused transfer \(id): \(reason); fix the cause and send again (a new transfer id is used)"
        case let .expired(inbox, id, idle):
            return "\(inbox): transfer \(id) made no progress for \(idle); is `ferry transfer receive` running on that inbox? Re-run the same send command to resume"
        case let .io(path, operation, detail):
            return "\(path): cannot \(operation): \(detail)"
        case let .sourceLengthChanged(path, expected, got):
            return "\(path): the source changed while being sent (expected \(expected) bytes, read \(got)); send it again once it is stable"
        case let .notAContainer(path, reason):
            return "\(path): container mode and --quantize need a safetensors model: \(reason) (send other files with --mode file and no --quantize)"
        }
    }
}

extension TransferError {
    /// A failure of the file layer, as ``io(path:operation:detail:)``.
    init(_ error: SupportError) {
        switch error {
        case let .io(path, operation, errno): self = .io(path: path, operation: operation, detail: errno.description)
        case let .tooLarge(path, limit): self = .io(path: path, operation: "read", detail: "file is larger than \(limit) bytes")
        case let .notRegularFile(path): self = .io(path: path, operation: "read", detail: "not a regular file")
        case let .malformed(path, reason): self = .io(path: path, operation: "read", detail: reason)
        case let .closed(path): self = .io(path: path, operation: "write", detail: "file already committed or aborted")
        case .invalidByteCount, .invalidDuration: self = .invalidOption(error.description)
        }
    }

    /// Runs a call of the file layer, reporting its failure as ``io(path:operation:detail:)``.
    static func io<T>(_ body: () throws -> T) throws(TransferError) -> T {
        do { return try body() } catch { throw TransferError(SupportError.wrap(error, path: "", operation: "use a file")) }
    }

    /// The failure of a raw system call on `path`, from errno.
    static func posix(_ path: String, _ operation: String) -> TransferError {
        .io(path: path, operation: operation, detail: Syscall.describe(errno))
    }
}
