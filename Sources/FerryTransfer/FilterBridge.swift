import FerrySupport

/// The points where the transfer plugs into the model layer: tensor layout for container mode,
/// quantizing source on the send side, dequantizing sink on the receive side.
enum FilterBridge {
    /// The stream segments (header, then each tensor) of a safetensors file.
    static func containerSegments(path: String) throws(TransferError) -> [StreamSegment] {
        throw .notAContainer(path: path, reason: "container mode is not available in this build")
    }

    /// A source producing the quantized safetensors stream of `path`, and its segments.
    static func quantizingSource(path: String, format: QuantFormat) throws(TransferError) -> (ByteSource, [StreamSegment]) {
        throw .invalidOption("--quantize is not available in this build")
    }

    /// A sink that undoes `filters` and publishes the restored file at `destination` on finish.
    static func restoringSink(destination: String, filters: [TransferFilter]) throws -> ByteSink {
        throw TransferError.invalidOption("filters \(filters) are not available in this build")
    }
}
