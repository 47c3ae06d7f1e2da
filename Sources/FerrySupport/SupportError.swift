import SystemPackage

/// Errors from the support layer: file I/O and value parsing.
public enum SupportError: Error, CustomStringConvertible, Equatable {
    /// An I/O call failed on `path`.
    case io(path: String, operation: String, errno: Errno)
    /// The writer was already committed or aborted.
    case closed(path: String)
    /// A file that must be small is larger than `limit` bytes.
    case tooLarge(path: String, limit: Int)
    /// A path that must be a regular file is a directory, device, FIFO or socket.
    case notRegularFile(path: String)
    /// A file holds something other than what it should (a JSON file that does not decode).
    case malformed(path: String, reason: String)
    /// A size such as `8MiB` could not be parsed.
    case invalidByteCount(String)
    /// A duration such as `1h30m` could not be parsed.
    case invalidDuration(String)

    /// Builds an ``io(path:operation:errno:)`` from any thrown error.
    public static func ioFailure(path: String, operation: String, error: any Error) -> SupportError {
        .io(path: path, operation: operation, errno: (error as? Errno) ?? Errno.ioError)
    }

    /// `error` itself when it is a ``SupportError``, else an I/O failure of `operation` on `path`.
    public static func wrap(_ error: any Error, path: String, operation: String) -> SupportError {
        (error as? SupportError) ?? ioFailure(path: path, operation: operation, error: error)
    }

    /// The errno of an I/O failure, nil for other errors.
    public var errno: Errno? {
        if case let .io(_, _, code) = self { return code }
        return nil
    }

    public var description: String {
        switch self {
        case let .io(path, operation, errno):
            return "\(path): cannot \(operation): \(errno.description)"
        case let .closed(path):
            return "\(path): file already committed or aborted"
        case let .tooLarge(path, limit):
            return "\(path): the file is larger than \(limit) bytes"
        case let .notRegularFile(path):
            return "\(path): not a regular file"
        case let .malformed(path, reason):
            return "\(path): \(reason)"
        case let .invalidByteCount(text):
            return "invalid size '\(text)': use a number with an optional unit, e.g. 512KiB, 8MiB, 1GiB, 4096 (units: B, KB, MB, GB, KiB, MiB, GiB, TiB)"
        case let .invalidDuration(text):
            return "invalid duration '\(text)': use numbers with units, e.g. 200ms, 90s, 10m, 1h30m (units: ms, s, m, h, d)"
        }
    }
}
