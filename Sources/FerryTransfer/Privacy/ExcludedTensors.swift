import FerrySupport
import FerryTensors
import Foundation

/// The receiving side of `exclude`: a result that left tensors out is completed with the global
/// model's values of those tensors, so every aggregator sees whole models and an excluded tensor keeps
/// its global value (its update is zero at that site; docs/filters.md).
public enum ExcludedTensors {
    /// The names of `global`'s tensors that `result` lacks and that match one of `patterns`.
    public static func missing(result: SafetensorsReader, global: SafetensorsReader, patterns: [String]) -> [TensorInfo] {
        let present = Set(result.tensors.map(\.name))
        return global.tensors.filter { t in
            !present.contains(t.name) && patterns.contains { fnmatch($0, t.name, 0) == 0 }
        }
    }

    /// Writes `result`'s tensors, then the `missing` ones from `global`, to `output` (atomically),
    /// slice by slice with a buffer of `bufferSize` bytes.
    public static func complete(result: SafetensorsReader, global: SafetensorsReader, missing: [TensorInfo],
                                output: String, bufferSize: Int = 1 << 20) throws(PrivacyFilterError) {
        let parts = result.tensors.map { (result, $0) } + missing.map { (global, $0) }
        do {
            let writer = try SafetensorsWriter(path: output, tensors: parts.map { TensorSpec(name: $0.1.name, dtype: $0.1.dtype, shape: $0.1.shape) },
                                               metadata: result.metadata)
            do {
                for (reader, tensor) in parts {
                    try reader.forEachSlice(of: tensor, bufferSize: bufferSize) { _, bytes in try writer.append(bytes) }
                }
                try writer.commit()
            } catch {
                writer.abort()
                throw error
            }
        } catch {
            throw .io(path: output, reason: "cannot complete the result with the global model's excluded tensors: \(error)")
        }
    }
}
