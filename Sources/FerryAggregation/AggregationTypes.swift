import FerryTensors

/// One client's contribution to a FedAvg round: its result model and its weight.
public struct AggregationInput: Sendable, Equatable {
    /// The client's trained model (safetensors, already dequantized to its source dtypes).
    public var path: String
    /// The client's weight: its `num_samples`. Must be finite and >= 0.
    public var weight: Double
    /// Who sent it (the site name), used in error messages.
    public var label: String

    /// Creates an input.
    public init(path: String, weight: Double, label: String) {
        self.path = path
        self.weight = weight
        self.label = label
    }
}

/// What an aggregation did.
public struct AggregationSummary: Sendable, Equatable {
    /// Clients averaged.
    public var clientCount: Int
    /// Sum of the clients' weights.
    public var totalWeight: Double
    /// Tensors in the output model.
    public var tensorCount: Int
    /// Elements in the output model.
    public var elementCount: Int64
    /// Tensor bytes read from all inputs.
    public var bytesRead: Int64
    /// Bytes of the output file (header included).
    public var bytesWritten: Int64
    /// Working buffers allocated (independent of the model size and the number of clients).
    public var workingMemoryBytes: Int
    /// Non-float tensors, which are copied from the first client instead of averaged.
    public var copiedFromFirstClient: [String]
}

/// Why an aggregation failed. Nothing is written at the output path in any of these cases.
public enum AggregationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No client results were given.
    case noInputs
    /// A weight is negative, infinite or NaN.
    case invalidWeight(client: String, weight: Double)
    /// All weights are zero.
    case zeroTotalWeight
    /// A client's file cannot be read as safetensors.
    case unreadable(client: String, path: String, reason: String)
    /// A client lacks a tensor the first client has.
    case missingTensor(client: String, tensor: String, reference: String)
    /// A client has a tensor the first client lacks.
    case unexpectedTensor(client: String, tensor: String, reference: String)
    /// A tensor's shape differs from the first client's.
    case shapeMismatch(client: String, tensor: String, shape: [Int], expected: [Int], reference: String)
    /// A tensor's dtype is incompatible with the first client's (float vs integer, or two integer types).
    case dtypeMismatch(client: String, tensor: String, dtype: String, expected: String, reference: String)
    /// A float dtype the aggregator cannot average (F8 types).
    case unsupportedDType(client: String, tensor: String, dtype: String)
    /// Reading an input or writing the output failed midway.
    case io(path: String, reason: String)
    /// The aggregation's settings do not fit the round (too few clients to trim, no reference model).
    case invalidRule(String)

    public var description: String {
        switch self {
        case .noInputs:
            return "nothing to aggregate: no client results were given"
        case let .invalidWeight(client, weight):
            return "client \(client) has an invalid weight \(weight): num_samples must be a finite number >= 0"
        case .zeroTotalWeight:
            return "every client reported num_samples 0: at least one client must train on a sample"
        case let .unreadable(client, path, reason):
            return "the result model of client \(client) (\(path)) cannot be read: \(reason)"
        case let .missingTensor(client, tensor, reference):
            return "the model of client \(client) has no tensor '\(tensor)', which \(reference)'s model has: "
                + "every client must return the same tensors"
        case let .unexpectedTensor(client, tensor, reference):
            return "the model of client \(client) has a tensor '\(tensor)' that \(reference)'s model lacks: "
                + "every client must return the same tensors"
        case let .shapeMismatch(client, tensor, shape, expected, reference):
            return "tensor '\(tensor)' of client \(client) has shape \(shape) but \(reference)'s has \(expected): "
                + "every client must return the same shapes"
        case let .dtypeMismatch(client, tensor, dtype, expected, reference):
            return "tensor '\(tensor)' of client \(client) has dtype \(dtype) but \(reference)'s has \(expected)"
        case let .unsupportedDType(client, tensor, dtype):
            return "tensor '\(tensor)' of client \(client) has dtype \(dtype), which cannot be averaged: "
                + "return F32, F16, BF16 or F64 tensors"
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .invalidRule(reason):
            return reason
        }
    }
}

extension DType {
    /// Float dtypes the aggregator averages.
    var isAveraged: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16: return true
        default: return false
        }
    }
}
