/// Why a site's filters could not produce the result to send; the result is then not sent.
public enum PrivacyFilterError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A model file cannot be read or the output cannot be written.
    case io(path: String, reason: String)
    /// There is no global model to measure the update from.
    case noReference(path: String)
    /// A tensor of the result is missing from the global model or has another shape.
    case mismatch(tensor: String, reason: String)
    /// `dp-gaussian` reached a tensor it cannot noise.
    case notFloat(tensor: String, dtype: String)
    /// The update holds NaN or infinity.
    case nonFinite(tensor: String)

    public var description: String {
        switch self {
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .noReference(path):
            return "no global model at \(path) to measure the update from: the filters dp-gaussian and percentile need the server app's `initial_model` (round 1 has no other)"
        case let .mismatch(tensor, reason):
            return "tensor '\(tensor)': \(reason); the result must have the global model's tensors (exclude the others with an `exclude` filter)"
        case let .notFloat(tensor, dtype):
            return "tensor '\(tensor)' is \(dtype), which dp-gaussian cannot noise: add its name to an `exclude` filter before dp-gaussian"
        case let .nonFinite(tensor):
            return "tensor '\(tensor)': the update holds NaN or infinity; the trainer's result is broken, nothing was sent"
        }
    }
}
