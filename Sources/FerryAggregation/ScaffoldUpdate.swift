import FerryTensors

/// SCAFFOLD's server step (Karimireddy et al., "SCAFFOLD: Stochastic Controlled Averaging for
/// Federated Learning", 2020, Algorithm 1). The clients S of a round return their model yᵢ and the
/// change of their control variate Δcᵢ (in a ``ScaffoldBundle``); with x the global model and c the
/// global control variate:
///
/// - `x ← x + η_g · Σ wᵢ(yᵢ − x)`, wᵢ the clients' weights normalized to sum 1 (their num_samples,
///   so equal weights give the paper's mean);
/// - `c ← c + (|S|/N) · mean(Δcᵢ)` = `c + Σ Δcᵢ / N`, N the clients of the job.
///
/// c holds an F32 tensor for every float tensor of the model (same name and shape); it starts at 0.
/// Integer tensors of the model are copied from the first client, as fedavg does. Streams tensor by
/// tensor, memory one slice of buffers whatever the number of clients.
public struct ScaffoldUpdate: Sendable, Equatable {
    /// The server learning rate η_g (`server_lr`, default 1).
    public var serverLearningRate: Double
    /// N: the clients of the job (those that accepted it), not only the round's.
    public var totalClients: Int

    /// Creates a step.
    public init(serverLearningRate: Double = 1, totalClients: Int) {
        self.serverLearningRate = serverLearningRate
        self.totalClients = totalClients
    }

    /// Writes the new control variate to `controlOutput`, then the new global model to `output` (both
    /// atomically, in that order: the model's existence marks the step done, and a step redone after a
    /// restart gives the same bytes).
    /// - Parameters:
    ///   - global: x, the global model the round started from.
    ///   - control: c before the round; nil in round 1 (zeros).
    ///   - results: each client's bundle and weight (its num_samples).
    public func apply(global: String, control: String?, results: [AggregationInput], output: String,
                      controlOutput: String) throws(AggregationError) {
        let totalWeight = try StreamingAggregator.totalWeight(results, positive: false)
        guard totalClients >= results.count, totalClients > 0 else {
            throw .invalidRule("scaffold: \(results.count) results but only \(totalClients) clients in the job")
        }
        let x = try StreamingAggregator.openReaders([AggregationInput(path: global, weight: 1, label: "the global model")])[0]
        let weights = results.map { totalWeight > 0 ? $0.weight / totalWeight : 1 / Double(results.count) }
        let controlLayout = x.tensors.filter(\.dtype.isFloatingPoint).map {
            LinearCombination.Entry(name: $0.name, shape: $0.shape, dtype: .f32)
        }
        var controlTerms = results.map {
            LinearCombination.Term(path: $0.path, weight: 1 / Double(totalClients), prefix: ScaffoldBundle.controlPrefix, label: $0.label)
        }
        if let control { controlTerms.insert(.init(path: control, weight: 1, label: "the server's control variate"), at: 0) }
        try LinearCombination().write(controlLayout, terms: controlTerms, metadata: ["ferry.scaffold": "c"], into: controlOutput)

        let eta = serverLearningRate
        let modelLayout = x.tensors.map {
            LinearCombination.Entry(name: $0.name, shape: $0.shape, dtype: $0.dtype, copiedFrom: $0.dtype.isFloatingPoint ? nil : 1)
        }
        let modelTerms = [LinearCombination.Term(path: global, weight: 1 - eta, label: "the global model")]
            + zip(results, weights).map { LinearCombination.Term(path: $0.path, weight: eta * $1, label: $0.label) }
        try LinearCombination().write(modelLayout, terms: modelTerms, metadata: x.metadata, into: output)
    }
}

/// A client's control variate cᵢ (SCAFFOLD): F32 tensors named like the model's float tensors.
public enum ControlVariates {
    /// Writes cᵢ = 0 shaped like the control variate `like` (or a model's float tensors).
    public static func zeros(like path: String, into output: String) throws(AggregationError) {
        let reader = try StreamingAggregator.openReaders([AggregationInput(path: path, weight: 1, label: path)])[0]
        let layout = reader.tensors.filter(\.dtype.isFloatingPoint).map {
            LinearCombination.Entry(name: $0.name, shape: $0.shape, dtype: .f32)
        }
        try LinearCombination().write(layout, terms: [], metadata: ["ferry.scaffold": "c_i"], into: output)
    }

    /// Writes `base + delta` (F32, tensors of `base`) to `output`: cᵢ after a task that reported Δcᵢ.
    /// - Throws: when `delta` lacks a tensor of `base` or has another shape (naming `deltaLabel`).
    public static func add(_ base: String, delta: String, deltaLabel: String, into output: String) throws(AggregationError) {
        let reader = try StreamingAggregator.openReaders([AggregationInput(path: base, weight: 1, label: base)])[0]
        let layout = reader.tensors.map { LinearCombination.Entry(name: $0.name, shape: $0.shape, dtype: .f32) }
        try LinearCombination().write(layout, terms: [.init(path: base, weight: 1, label: "the control variate"),
                                                     .init(path: delta, weight: 1, label: deltaLabel)],
                                      metadata: ["ferry.scaffold": "c_i"], into: output)
    }
}
