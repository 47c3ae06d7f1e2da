/// Why a model could not be quantized or a quantized model could not be restored.
public enum QuantError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The input already carries ferry quantization metadata.
    case alreadyQuantized(file: String)
    /// The input is not a ferry-quantized file (no `ferry.quantized.version` in `__metadata__`).
    case notQuantized(file: String)
    /// The quantized file was written by a newer ferry.
    case unsupportedVersion(file: String, version: String)
    /// A `ferry.tensor.*` entry or the tensors it points at do not match the documented format.
    case invalidEntry(file: String, tensor: String, reason: String)
    /// A name the quantized layout needs is already used by the model (or metadata key collides).
    case nameCollision(file: String, name: String)
    /// The byte stream ended before the whole file arrived.
    case truncatedStream(file: String, expected: Int64, received: Int64)
    /// More bytes arrived than the header announces.
    case extraBytes(file: String, expected: Int64)
    /// The sink was used after `finish()` or `cancel()`.
    case sinkClosed(file: String)

    public var description: String {
        switch self {
        case let .alreadyQuantized(file):
            return "\(file): already quantized by ferry (its __metadata__ has ferry.quantized.version); dequantize it first with `ferry model dequantize`"
        case let .notQuantized(file):
            return "\(file): not a ferry-quantized model (no ferry.quantized.version in __metadata__); quantize one with `ferry model quantize IN OUT --format nf4`"
        case let .unsupportedVersion(file, version):
            return "\(file): quantized-model format version \(version) is not supported by this ferry (it reads version 1); upgrade ferry"
        case let .invalidEntry(file, tensor, reason):
            return "\(file): quantized tensor '\(tensor)': \(reason) (see docs/quantized-format.md)"
        case let .nameCollision(file, name):
            return "\(file): the quantized layout needs the name '\(name)', which the model already uses; rename that tensor or metadata key"
        case let .truncatedStream(file, expected, received):
            return "\(file): the quantized stream ended after \(received) of \(expected) bytes; nothing was written (resend the file)"
        case let .extraBytes(file, expected):
            return "\(file): more bytes arrived than the \(expected) the quantized header announces; nothing was written"
        case let .sinkClosed(file):
            return "\(file): the dequantizing sink was already finished or cancelled"
        }
    }
}
