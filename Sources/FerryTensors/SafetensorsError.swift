/// Why a safetensors file (or header bytes) was refused, or why reading or writing one failed.
///
/// Every case names the file (or the stream's label) so the message can be shown as is.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file is shorter than the 8-byte header length.
    case fileTooSmall(file: String, size: Int64)
    /// The declared header length is above ``SafetensorsHeader/maximumJSONByteCount``.
    case headerTooLarge(file: String, length: UInt64)
    /// The declared header length runs past the end of the file.
    case headerPastEnd(file: String, length: UInt64, fileSize: Int64)
    /// The header is not valid UTF-8 JSON, or not a JSON object.
    case invalidJSON(file: String, reason: String)
    /// A tensor entry (or the `__metadata__` entry) has a missing field or a field of the wrong type.
    case invalidEntry(file: String, tensor: String, reason: String)
    /// A tensor uses a dtype this reader does not know.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// Two entries have the same name.
    case duplicateName(file: String, name: String)
    /// A dimension is negative, or the element or byte count overflows 64 bits.
    case invalidShape(file: String, tensor: String, shape: String, reason: String)
    /// `data_offsets` span a different number of bytes than shape × dtype size.
    case sizeMismatch(file: String, tensor: String, expected: Int64, actual: Int64)
    /// A tensor's bytes lie (partly) past the end of the data section.
    case offsetsOutsideData(file: String, tensor: String, end: Int64, dataSize: Int64)
    /// Two tensors share bytes.
    case overlappingOffsets(file: String, first: String, second: String)
    /// Bytes of the data section belong to no tensor (between tensors or before the first).
    case gapInData(file: String, after: String?, before: String, gapStart: Int64, gapEnd: Int64)
    /// The data section is longer than the tensors cover (bytes left over at the end).
    case trailingData(file: String, covered: Int64, dataSize: Int64)
    /// `__metadata__` is not an object of string values.
    case invalidMetadata(file: String, key: String?, reason: String)
    /// A tensor spec given to the writer is invalid (empty or reserved name, negative shape, overflow).
    case invalidSpec(name: String, reason: String)
    /// A system call failed.
    case io(file: String, operation: String, reason: String)
    /// The file ended before the bytes the header promises (truncated after it was opened).
    case truncated(file: String, offset: Int64, expected: Int, got: Int)
    /// A read asked for bytes outside the tensor.
    case rangeOutsideTensor(file: String, tensor: String, range: String, byteCount: Int64)
    /// The caller's buffer is smaller than the bytes asked for.
    case bufferTooSmall(needed: Int64, available: Int)
    /// A tensor is too large to be read into memory whole; read it in ranges.
    case tensorTooLarge(file: String, tensor: String, byteCount: Int64, limit: Int64)
    /// A tensor name was not found.
    case noSuchTensor(file: String, name: String)
    /// The writer was given more bytes than the header promised.
    case tooManyBytes(file: String, expected: Int64, got: Int64)
    /// The writer was committed before every promised byte was appended.
    case incomplete(file: String, expected: Int64, written: Int64, tensor: String?)
    /// The writer was already committed or aborted.
    case writerClosed(file: String)
    /// A tensor's dtype cannot be converted to the requested element type.
    case unsupportedConversion(file: String, tensor: String, from: DType, to: String)

    public var description: String {
        switch self {
        case let .fileTooSmall(file, size):
            return "\(file): not a safetensors file: \(size) bytes, shorter than the 8-byte header length"
        case let .headerTooLarge(file, length):
            return "\(file): refused: header length \(length) bytes is above the 100 MB limit (corrupt or hostile file)"
        case let .headerPastEnd(file, length, fileSize):
            return "\(file): refused: header length \(length) bytes runs past the end of the \(fileSize)-byte file (truncated or not a safetensors file)"
        case let .invalidJSON(file, reason):
            return "\(file): refused: the header is not a valid JSON object: \(reason)"
        case let .invalidEntry(file, tensor, reason):
            return "\(file): refused: entry '\(tensor)': \(reason)"
        case let .unknownDType(file, tensor, dtype):
            return "\(file): refused: tensor '\(tensor)' has unknown dtype '\(dtype)' (known: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .duplicateName(file, name):
            return "\(file): refused: the header names '\(name)' more than once"
        case let .invalidShape(file, tensor, shape, reason):
            return "\(file): refused: tensor '\(tensor)' has invalid shape \(shape): \(reason)"
        case let .sizeMismatch(file, tensor, expected, actual):
            return "\(file): refused: tensor '\(tensor)' spans \(actual) bytes but its shape and dtype need \(expected)"
        case let .offsetsOutsideData(file, tensor, end, dataSize):
            return "\(file): refused: tensor '\(tensor)' ends at data byte \(end), past the \(dataSize)-byte data section (truncated file?)"
        case let .overlappingOffsets(file, first, second):
            return "\(file): refused: tensors '\(first)' and '\(second)' overlap"
        case let .gapInData(file, after, before, gapStart, gapEnd):
            let start = after.map { "after '\($0)'" } ?? "at the start of the data section"
            return "\(file): refused: data bytes \(gapStart)..<\(gapEnd) \(start), before '\(before)', belong to no tensor"
        case let .trailingData(file, covered, dataSize):
            return "\(file): refused: the tensors cover \(covered) bytes but the data section has \(dataSize) (extra bytes at the end)"
        case let .invalidMetadata(file, key, reason):
            let which = key.map { " key '\($0)'" } ?? ""
            return "\(file): refused: __metadata__\(which): \(reason)"
        case let .invalidSpec(name, reason):
            return "tensor '\(name)': \(reason)"
        case let .io(file, operation, reason):
            return "\(file): cannot \(operation): \(reason)"
        case let .truncated(file, offset, expected, got):
            return "\(file): file ended early: wanted \(expected) bytes at offset \(offset), got \(got) (was it truncated or replaced while open?)"
        case let .rangeOutsideTensor(file, tensor, range, byteCount):
            return "\(file): byte range \(range) is outside tensor '\(tensor)' (\(byteCount) bytes)"
        case let .bufferTooSmall(needed, available):
            return "buffer of \(available) bytes is too small for \(needed) bytes"
        case let .tensorTooLarge(file, tensor, byteCount, limit):
            return "\(file): tensor '\(tensor)' has \(byteCount) bytes, more than the \(limit)-byte limit for a whole read; read it in ranges"
        case let .noSuchTensor(file, name):
            return "\(file): no tensor named '\(name)'"
        case let .tooManyBytes(file, expected, got):
            return "\(file): writer got \(got) bytes but the header promised \(expected)"
        case let .incomplete(file, expected, written, tensor):
            let at = tensor.map { " (stopped in tensor '\($0)')" } ?? ""
            return "\(file): not written: \(written) of \(expected) data bytes were appended\(at)"
        case let .writerClosed(file):
            return "\(file): writer already committed or aborted"
        case let .unsupportedConversion(file, tensor, from, to):
            return "\(file): tensor '\(tensor)' is \(from.rawValue) and cannot be read as \(to)"
        }
    }
}
