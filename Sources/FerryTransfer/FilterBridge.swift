import FerryQuant
import FerrySupport
import FerryTensors

/// The points where the transfer plugs into the model layer: tensor layout for container mode,
/// quantizing source on the send side, dequantizing sink on the receive side.
enum FilterBridge {
    /// The stream segments (header, then each tensor) of a safetensors file.
    static func containerSegments(path: String) throws(TransferError) -> [StreamSegment] {
        do {
            return segments(of: try SafetensorsReader(path: path).header)
        } catch {
            throw .notAContainer(path: path, reason: error.description)
        }
    }

    /// The header (`name == nil`) and every tensor's byte range, as stream offsets.
    static func segments(of header: SafetensorsHeader) -> [StreamSegment] {
        var out = [StreamSegment(name: nil, start: 0, end: header.dataStart)]
        for t in header.tensors {
            out.append(StreamSegment(name: t.name, start: header.dataStart + t.dataOffsets.lowerBound,
                                     end: header.dataStart + t.dataOffsets.upperBound))
        }
        return out
    }

    /// A source producing the quantized safetensors stream of `path`, and its segments.
    static func quantizingSource(path: String, format: QuantFormat) throws(TransferError) -> (ByteSource, [StreamSegment]) {
        do {
            let source = try QuantizingSource(modelPath: path, format: format)
            return (source, segments(of: source.header))
        } catch let error as SafetensorsError {
            throw .notAContainer(path: path, reason: error.description)
        } catch {
            throw .invalidSource(path: path, reason: "cannot quantize to \(format.rawValue): \(error)")
        }
    }

    /// A sink that undoes `filters` and publishes the restored file at `destination` on finish.
    /// Only single-step quantization chains exist today; anything else is refused.
    static func restoringSink(destination: String, filters: [TransferFilter]) throws(TransferError) -> ByteSink {
        guard filters.count == 1, let name = filters[0].quantize, QuantFormat(rawValue: name) != nil else {
            throw .invalidOption("filter chain \(filters.map { $0.quantize ?? "?" }) is not supported by this receiver")
        }
        return DequantizingSink(destination: destination)
    }
}
