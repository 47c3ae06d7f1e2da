/// A tensor to be written: name, element type and shape (no data yet).
public struct TensorSpec: Sendable, Hashable {
    /// The tensor's name (the key in the header).
    public var name: String
    /// Element type.
    public var dtype: DType
    /// Dimensions; `[]` is a scalar (one element), a 0 anywhere makes an empty tensor.
    public var shape: [Int]

    /// Creates a tensor description.
    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }
}

/// One tensor of a safetensors file: its description and where its bytes are.
public struct TensorInfo: Sendable, Hashable {
    /// The tensor's name (the key in the header).
    public var name: String
    /// Element type.
    public var dtype: DType
    /// Dimensions; `[]` is a scalar.
    public var shape: [Int]
    /// Byte range relative to the start of the data section (file offset = `dataStart` + this).
    public var dataOffsets: Range<Int64>

    /// Creates a tensor entry. The caller guarantees `dataOffsets.count == byteCount`;
    /// ``SafetensorsHeader`` checks this for parsed and built headers.
    public init(name: String, dtype: DType, shape: [Int], dataOffsets: Range<Int64>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
    }

    /// Number of bytes of data (`dataOffsets.count`).
    public var byteCount: Int64 { dataOffsets.upperBound - dataOffsets.lowerBound }

    /// Number of elements (product of the shape; 1 for a scalar).
    public var elementCount: Int64 { byteCount / Int64(dtype.byteSize) }

    /// The name, dtype and shape without the location.
    public var spec: TensorSpec { TensorSpec(name: name, dtype: dtype, shape: shape) }
}

extension TensorSpec {
    /// Element count with overflow checks; nil when a dimension is negative or the product overflows `Int64`.
    public var checkedElementCount: Int64? {
        var count: Int64 = 1
        for dim in shape {
            guard dim >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int64(dim))
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// Byte count (elements × dtype size) with overflow checks; nil on a negative dimension or overflow.
    public var checkedByteCount: Int64? {
        guard let elements = checkedElementCount else { return nil }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: Int64(dtype.byteSize))
        return overflow ? nil : bytes
    }
}
