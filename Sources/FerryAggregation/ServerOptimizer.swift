import CFerryAggregationKernels
import FerryTensors

/// FedOpt's server optimizer (Reddi et al., "Adaptive Federated Optimization", 2021, Algorithm 2):
/// the averaged client model `a` and the previous global model `g` give the pseudo-gradient
/// `Δ = a − g`, and the new global model is
///
/// - `sgd`:     `m ← μ·m + Δ`, `x = g + lr·m` (μ = `momentum`; μ = 0, lr = 1 is FedAvg);
/// - `adagrad`: `m ← β₁·m + (1−β₁)·Δ`, `v ← v + Δ²`, `x = g + lr·m / (√v + ε)`;
/// - `adam`:    `m ← β₁·m + (1−β₁)·Δ`, `v ← β₂·v + (1−β₂)·Δ²`, same `x` (no bias correction, as in the paper);
/// - `yogi`:    `m` as adam, `v ← v − (1−β₂)·Δ²·sign(v − Δ²)`, same `x`.
///
/// `m` and `v` start at 0. They are kept as F32 in one safetensors file per round (each tensor of the
/// model with a trailing dimension of 2: `m`, `v`); the new model is computed from the F32-rounded
/// state, so a round redone after a restart gives the same bytes. Integer tensors are copied from `a`.
public struct ServerOptimizer: Sendable, Equatable, Codable {
    /// The optimizer's name (`server_optimizer.name`).
    public enum Name: String, Sendable, Equatable, Codable, CaseIterable {
        case sgd, adam, yogi, adagrad
    }

    public var name: Name
    /// Server learning rate (η in the paper).
    public var lr: Double
    /// `sgd` momentum (default 0).
    public var momentum: Double
    /// First-moment decay (default 0.9; 0 for adagrad).
    public var beta1: Double
    /// Second-moment decay (default 0.99).
    public var beta2: Double
    /// Adaptivity ε (τ in the paper, default 1e-3).
    public var eps: Double

    public init(name: Name, lr: Double, momentum: Double = 0, beta1: Double? = nil, beta2: Double = 0.99,
                eps: Double = 1e-3) {
        self.name = name
        self.lr = lr
        self.momentum = momentum
        self.beta1 = beta1 ?? (name == .adagrad ? 0 : 0.9)
        self.beta2 = beta2
        self.eps = eps
    }

    /// One step on `count` elements: `out[k]` from `g[k]` and `a[k]`, updating `moments` (`m`, `v`
    /// interleaved, F32) in place. Every build runs the same -O3 C loop (no fused multiply-add).
    func apply(g: UnsafePointer<Double>, a: UnsafePointer<Double>, moments: UnsafeMutablePointer<Float>,
               out: UnsafeMutablePointer<Double>, count: Int) {
        let kernel: ferry_agg_optimizer
        switch name {
        case .sgd: kernel = FERRY_AGG_SGD
        case .adam: kernel = FERRY_AGG_ADAM
        case .yogi: kernel = FERRY_AGG_YOGI
        case .adagrad: kernel = FERRY_AGG_ADAGRAD
        }
        ferry_agg_optimizer_step(kernel, lr, momentum, beta1, beta2, eps, g, a, moments, out, count)
    }

    /// Applies one step, streaming slice by slice: writes the new global model to `output` and the
    /// new state to `stateOutput` (both atomically; the state first).
    /// - Parameters:
    ///   - previous: the global model the round started from (`g`).
    ///   - averaged: the aggregated client models (`a`).
    ///   - state: the previous round's state file, nil in the first round (zeros).
    ///   - sliceElements: elements per slice; memory is about 48 bytes per element.
    public func step(previous: String, averaged: String, state: String?, output: String, stateOutput: String,
                     sliceElements: Int = 1 << 19) throws(AggregationError) {
        let g = try open(previous, label: "the previous global model")
        let a = try open(averaged, label: "the aggregated model")
        let s = try state.map { path throws(AggregationError) in try open(path, label: "the optimizer state") }
        let plan = try AggregationPlan(inputs: [AggregationInput(path: averaged, weight: 1, label: "the aggregated model"),
                                                AggregationInput(path: previous, weight: 1, label: "the previous global model")],
                                       readers: [a, g])
        let moments = plan.tensors.filter(\.averaged)
        let stateInfos = try stateTensors(s, moments: moments)
        let slice = max(64, sliceElements)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: slice * 8, alignment: 64)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: slice * 2)
        let gx = UnsafeMutablePointer<Double>.allocate(capacity: slice)
        let ax = UnsafeMutablePointer<Double>.allocate(capacity: slice)
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: slice * 8, alignment: 64)
        let mv = UnsafeMutablePointer<Float>.allocate(capacity: slice * 2)
        let result = UnsafeMutablePointer<Double>.allocate(capacity: slice)
        defer {
            raw.deallocate(); scratch.deallocate(); gx.deallocate(); ax.deallocate(); out.deallocate(); mv.deallocate()
            result.deallocate()
        }

        let (stateWriter, writer) = try writers(plan, moments: moments, metadata: a.metadata, output: output,
                                                stateOutput: stateOutput)
        try publish(stateWriter, writer, output: output) { () throws in
            for tensor in plan.tensors {
                let count = Int(tensor.elementCount)
                let e = tensor.outputDType.byteSize
                var start = 0
                while start < count {
                    let n = min(slice, count - start)
                    if tensor.averaged {
                        try load(a, tensor.clientTensors[0], start, n, raw, scratch, ax)
                        try load(g, tensor.clientTensors[1], start, n, raw, scratch, gx)
                        if let s, let info = stateInfos[tensor.name] {
                            try read(s, info, Int64(start * 8)..<Int64((start + n) * 8),
                                     UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(mv), count: n * 8))
                        } else {
                            mv.update(repeating: 0, count: 2 * n)
                        }
                        apply(g: gx, a: ax, moments: mv, out: result, count: n)
                        try stateWriter.append(UnsafeRawBufferPointer(start: UnsafeRawPointer(mv), count: n * 8))
                        AggregationKernels.finish(accumulator: result, count: n, totalWeight: 1, dtype: tensor.outputDType,
                                                  scratch: scratch, output: out.baseAddress!)
                    } else {
                        try read(a, tensor.clientTensors[0], Int64(start * e)..<Int64((start + n) * e), out)
                    }
                    try writer.append(UnsafeRawBufferPointer(rebasing: out[0..<(n * e)]))
                    start += n
                }
            }
        }
    }

    /// The previous state's tensor for each of `moments`, checked to belong to this model (none without a state).
    func stateTensors(_ s: SafetensorsReader?, moments: [AggregationPlan.Tensor]) throws(AggregationError) -> [String: TensorInfo] {
        var stateInfos: [String: TensorInfo] = [:]
        guard let s else { return stateInfos }
        for tensor in moments {
            guard let info = s.header.tensor(named: tensor.name), info.dtype == .f32,
                  info.shape == tensor.shape + [2] else {
                throw .invalidRule("the optimizer state \(s.path) has no F32 tensor '\(tensor.name)' of shape \(tensor.shape + [2]): "
                    + "it belongs to another model; remove it to restart the optimizer from zero")
            }
            stateInfos[tensor.name] = info
        }
        return stateInfos
    }

    /// The writers of the new state (`m`, `v` of each of `moments`) and of the new global model.
    func writers(_ plan: AggregationPlan, moments: [AggregationPlan.Tensor], metadata: [String: String], output: String,
                 stateOutput: String) throws(AggregationError) -> (state: SafetensorsWriter, model: SafetensorsWriter) {
        do {
            let stateWriter = try SafetensorsWriter(path: stateOutput,
                                                    tensors: moments.map { TensorSpec(name: $0.name, dtype: .f32, shape: $0.shape + [2]) },
                                                    metadata: ["ferry.optimizer": name.rawValue])
            return (stateWriter, try SafetensorsWriter(path: output, tensors: plan.outputSpecs, metadata: metadata))
        } catch {
            throw .io(path: output, reason: "cannot create the new global model: \(error)")
        }
    }

    /// Runs `body` (which appends every tensor to both writers), then commits the state and the model,
    /// in that order; on any error neither is left behind.
    func publish(_ stateWriter: SafetensorsWriter, _ writer: SafetensorsWriter, output: String,
                 _ body: () throws -> Void) throws(AggregationError) {
        do {
            try body()
            try stateWriter.commit()
            try writer.commit()
        } catch let error as AggregationError {
            stateWriter.abort()
            writer.abort()
            throw error
        } catch {
            stateWriter.abort()
            writer.abort()
            throw .io(path: output, reason: "cannot write the new global model or the optimizer state: \(error)")
        }
    }

    private func open(_ path: String, label: String) throws(AggregationError) -> SafetensorsReader {
        do {
            return try SafetensorsReader(path: path)
        } catch {
            throw .unreadable(client: label, path: path, reason: error.description)
        }
    }

    private func load(_ reader: SafetensorsReader, _ info: TensorInfo, _ start: Int, _ n: Int,
                      _ raw: UnsafeMutableRawBufferPointer, _ scratch: UnsafeMutablePointer<Float>,
                      _ into: UnsafeMutablePointer<Double>) throws(AggregationError) {
        let e = info.dtype.byteSize
        let buffer = UnsafeMutableRawBufferPointer(rebasing: raw[0..<(n * 8)])
        try read(reader, info, Int64(start * e)..<Int64((start + n) * e), buffer)
        AggregationKernels.accumulate(raw: UnsafeRawBufferPointer(buffer), dtype: info.dtype, count: n, weight: 1, first: true,
                                      accumulator: into, scratch: scratch)
    }

    private func read(_ reader: SafetensorsReader, _ info: TensorInfo, _ bytes: Range<Int64>,
                      _ buffer: UnsafeMutableRawBufferPointer) throws(AggregationError) {
        do {
            try reader.read(info, byteRange: bytes, into: buffer)
        } catch {
            throw .io(path: reader.path, reason: "cannot read tensor '\(info.name)': \(error.description)")
        }
    }
}
