import FerryTensors

/// The aggregated model being written to `output`: published atomically when every tensor is in,
/// removed when anything fails; every error is an ``AggregationError`` that names `output`.
struct AggregatedModelWriter {
    let writer: SafetensorsWriter
    let output: String

    init(output: String, tensors: [TensorSpec], metadata: [String: String]) throws(AggregationError) {
        self.output = output
        do {
            writer = try SafetensorsWriter(path: output, tensors: tensors, metadata: metadata)
        } catch {
            throw .io(path: output, reason: "cannot create the aggregated model: \(error)")
        }
    }

    /// Appends the next bytes of the model's data, in tensor order.
    func append(_ bytes: UnsafeRawBufferPointer) throws(AggregationError) {
        do {
            try writer.append(bytes)
        } catch {
            throw .io(path: output, reason: "cannot write the aggregated model: \(error)")
        }
    }

    /// Runs `body` (which appends every tensor), then publishes the model; on any error the partial
    /// file is removed.
    func publish(_ body: () throws(AggregationError) -> Void) throws(AggregationError) {
        do {
            try body()
            try writer.commit()
        } catch let error as AggregationError {
            writer.abort()
            throw error
        } catch {
            writer.abort()
            throw .io(path: output, reason: "cannot publish the aggregated model: \(error)")
        }
    }
}
