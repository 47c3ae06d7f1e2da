/// The parsed and validated header of a safetensors file.
///
/// File layout: an 8-byte little-endian unsigned length `N`, `N` bytes of UTF-8 JSON
/// `{"__metadata__": {str: str}, NAME: {"dtype": D, "shape": [..], "data_offsets": [b, e]}, …}`,
/// then the data section. Offsets are relative to the data section, which starts at `8 + N`.
///
/// A valid header has: `N` ≤ 100 MB and within the file; unique names; known dtypes;
/// non-negative shapes whose byte count fits 64 bits and equals `e − b`; tensors that tile the
/// data section exactly (sorted by offset, the first at 0, each starting where the previous ends,
/// the last ending at the end of the file); string-only metadata.
public struct SafetensorsHeader: Sendable, Equatable {
    /// The largest header JSON accepted (100 MB, the limit of the reference implementation).
    public static let maximumJSONByteCount: UInt64 = 100_000_000

    /// The tensors, sorted by their offset in the data section.
    public let tensors: [TensorInfo]
    /// The `__metadata__` entries (empty when absent).
    public let metadata: [String: String]
    /// Bytes before the data section: the 8-byte length prefix plus the JSON (with its padding).
    public let headerByteCount: Int64
    /// Bytes of the data section (sum of all tensors' bytes).
    public let dataByteCount: Int64

    /// File offset of the data section (equal to ``headerByteCount``).
    public var dataStart: Int64 { headerByteCount }
    /// Size of the whole file: header plus data.
    public var totalByteCount: Int64 { headerByteCount + dataByteCount }
    /// Total number of elements over all tensors.
    public var elementCount: Int64 { tensors.reduce(0) { $0 + $1.elementCount } }

    /// Finds a tensor by name.
    public func tensor(named name: String) -> TensorInfo? { tensors.first { $0.name == name } }

    /// File offsets of a tensor's bytes (its data offsets shifted by ``dataStart``).
    public func fileRange(of tensor: TensorInfo) -> Range<Int64> {
        (dataStart + tensor.dataOffsets.lowerBound)..<(dataStart + tensor.dataOffsets.upperBound)
    }

    init(unchecked tensors: [TensorInfo], metadata: [String: String], headerByteCount: Int64, dataByteCount: Int64) {
        self.tensors = tensors
        self.metadata = metadata
        self.headerByteCount = headerByteCount
        self.dataByteCount = dataByteCount
    }

    /// Lays out `tensors` contiguously in declaration order and computes the header size.
    ///
    /// - Throws: ``SafetensorsError/invalidSpec(name:reason:)`` for an empty, duplicate or reserved
    ///   name, a negative dimension, or sizes that overflow 64 bits;
    ///   ``SafetensorsError/invalidMetadata(file:key:reason:)`` when the encoded header would exceed 100 MB.
    public init(tensors specs: [TensorSpec], metadata: [String: String] = [:]) throws(SafetensorsError) {
        var infos: [TensorInfo] = []
        infos.reserveCapacity(specs.count)
        var names = Set<String>()
        var offset: Int64 = 0
        for spec in specs {
            guard spec.name != "__metadata__" else { throw .invalidSpec(name: spec.name, reason: "the name __metadata__ is reserved") }
            guard names.insert(spec.name).inserted else { throw .invalidSpec(name: spec.name, reason: "the name is used twice") }
            guard let bytes = spec.checkedByteCount else {
                throw .invalidSpec(name: spec.name, reason: "shape \(spec.shape) has a negative dimension or overflows 64 bits")
            }
            let (end, overflow) = offset.addingReportingOverflow(bytes)
            guard !overflow else { throw .invalidSpec(name: spec.name, reason: "the total data size overflows 64 bits") }
            infos.append(TensorInfo(name: spec.name, dtype: spec.dtype, shape: spec.shape, dataOffsets: offset..<end))
            offset = end
        }
        let json = Self.encodeJSON(tensors: infos, metadata: metadata)
        guard UInt64(json.count) <= Self.maximumJSONByteCount else {
            throw .invalidMetadata(file: "<new header>", key: nil, reason: "the header would be \(json.count) bytes, above the 100 MB limit")
        }
        self.init(unchecked: infos, metadata: metadata, headerByteCount: 8 + Int64(json.count), dataByteCount: offset)
    }

    /// The header bytes: 8-byte little-endian length, then the JSON padded with spaces to a multiple of 8.
    ///
    /// The JSON is compact, `__metadata__` first (keys sorted, omitted when empty), then the tensors
    /// in offset order with fields `dtype`, `shape`, `data_offsets` — the layout Python's
    /// `safetensors` writes. For a header built with ``init(tensors:metadata:)`` the result is
    /// exactly ``headerByteCount`` bytes long; a parsed header is re-encoded in this canonical form,
    /// which may differ in length from the file it came from.
    public func encoded() -> [UInt8] {
        let json = Self.encodeJSON(tensors: tensors, metadata: metadata)
        var out: [UInt8] = []
        out.reserveCapacity(8 + json.count)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        return out
    }

    /// The JSON text, padded with spaces so that `8 + count` is a multiple of 8.
    static func encodeJSON(tensors: [TensorInfo], metadata: [String: String]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        if !metadata.isEmpty {
            JSONText.appendString("__metadata__", to: &out)
            out.append(contentsOf: Array(":{".utf8))
            for (i, key) in metadata.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                JSONText.appendString(metadata[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
            first = false
        }
        for t in tensors {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONText.appendString(t.name, to: &out)
            out.append(contentsOf: Array(":{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[".utf8))
            out.append(contentsOf: Array(t.shape.map(String.init).joined(separator: ",").utf8))
            out.append(contentsOf: Array("],\"data_offsets\":[\(t.dataOffsets.lowerBound),\(t.dataOffsets.upperBound)]}".utf8))
        }
        out.append(UInt8(ascii: "}"))
        while (out.count + 8) % 8 != 0 { out.append(UInt8(ascii: " ")) }
        return out
    }
}
