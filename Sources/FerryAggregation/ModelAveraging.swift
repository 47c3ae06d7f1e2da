import Foundation

/// Weighted averaging of client models into a global model, through ``StreamingAggregator``
/// (tensor by tensor, memory bounded by a buffer per client).
public enum ModelAveraging {
    /// Averages `inputs` (model paths with weights summing to 1) into `output`, atomically.
    public static func average(_ inputs: [(path: String, weight: Double)], output: String) throws {
        let aggregator = StreamingAggregator()
        try aggregator.aggregate(inputs.map { AggregationInput(path: $0.path, weight: $0.weight, label: $0.path) },
                                 into: output)
    }
}
