import FerryTensors

/// A model and a second payload, its control variates, in one safetensors file: the form SCAFFOLD's
/// messages take on the wire (docs/runtime.md, "scaffold"). The model's tensors keep their names; the
/// control variates follow under ``controlPrefix``. One file travels through the transfer and its
/// quantization filter like any model, and arrives whole or not at all.
public enum ScaffoldBundle {
    /// The name prefix of the control variate tensors in a bundle.
    public static let controlPrefix = "ferry.control/"

    /// Writes `output` (atomically): every tensor of `model`, then every tensor of `control` renamed
    /// with ``controlPrefix``; the metadata is the model's. Streams in slices of `bufferSize` bytes.
    public static func join(model: String, control: String, into output: String,
                            bufferSize: Int = 4 << 20) throws(AggregationError) {
        let readers = try StreamingAggregator.openReaders([AggregationInput(path: model, weight: 1, label: "the model"),
                                                          AggregationInput(path: control, weight: 1, label: "the control variates")])
        let parts = readers[0].tensors.map { (readers[0], $0, $0.name) }
            + readers[1].tensors.map { (readers[1], $0, controlPrefix + $0.name) }
        try copy(parts, metadata: readers[0].metadata, into: output, bufferSize: bufferSize)
    }

    /// Whether `path` is a bundle (holds tensors under ``controlPrefix``).
    public static func isBundle(_ path: String) throws(AggregationError) -> Bool {
        let reader = try StreamingAggregator.openReaders([AggregationInput(path: path, weight: 1, label: path)])[0]
        return reader.tensors.contains { $0.name.hasPrefix(controlPrefix) }
    }

    /// Splits a bundle: its model tensors into `model` (with the bundle's metadata), its control
    /// variates (the prefix removed) into `control`. Both written atomically.
    public static func split(_ bundle: String, model: String, control: String,
                             bufferSize: Int = 4 << 20) throws(AggregationError) {
        let reader = try StreamingAggregator.openReaders([AggregationInput(path: bundle, weight: 1, label: bundle)])[0]
        let controls = reader.tensors.filter { $0.name.hasPrefix(controlPrefix) }
        let models = reader.tensors.filter { !$0.name.hasPrefix(controlPrefix) }
        try copy(controls.map { (reader, $0, String($0.name.dropFirst(controlPrefix.count))) }, metadata: [:],
                 into: control, bufferSize: bufferSize)
        try copy(models.map { (reader, $0, $0.name) }, metadata: reader.metadata, into: model, bufferSize: bufferSize)
    }

    private static func copy(_ parts: [(SafetensorsReader, TensorInfo, String)], metadata: [String: String],
                             into output: String, bufferSize: Int) throws(AggregationError) {
        let writer = try AggregatedModelWriter(output: output, tensors: parts.map { TensorSpec(name: $2, dtype: $1.dtype, shape: $1.shape) },
                                               metadata: metadata)
        try writer.publish { () throws(AggregationError) in
            for (reader, info, _) in parts {
                do {
                    try reader.forEachSlice(of: info, bufferSize: bufferSize) { _, bytes in try writer.writer.append(bytes) }
                } catch let error as AggregationError {
                    throw error
                } catch {
                    throw .io(path: reader.path, reason: "cannot copy tensor '\(info.name)' into \(output): \(error)")
                }
            }
        }
    }
}
