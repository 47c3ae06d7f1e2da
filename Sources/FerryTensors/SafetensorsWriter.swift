import FerrySupport

/// Writes a safetensors file as a stream: the header first (every size is known up front),
/// then the tensors' bytes appended in declaration order, then an atomic publish.
///
/// ```swift
/// let writer = try SafetensorsWriter(path: "m.safetensors",
///                                    tensors: [("w", .f32, [2, 3]), ("b", .f32, [3])],
///                                    metadata: ["format": "pt"])
/// try writer.append(weightBytes)   // 24 bytes
/// try writer.append(biasBytes)     // 12 bytes
/// try writer.commit()              // fsync + rename; refuses if any promised byte is missing
/// ```
/// Appends may be cut anywhere (they need not follow tensor boundaries). Nothing appears at
/// `path` until ``commit()``; dropping the writer or calling ``abort()`` leaves no file behind.
public final class SafetensorsWriter {
    /// The destination path.
    public let path: String
    /// The header being written (tensors in declaration order).
    public let header: SafetensorsHeader
    private let file: AtomicFileWriter
    private var closed = false
    /// Data bytes appended so far (header not counted).
    public private(set) var dataBytesWritten: Int64 = 0

    /// Starts writing `path` with the given tensors (laid out contiguously in this order).
    /// - Throws: ``SafetensorsError/invalidSpec(name:reason:)`` for duplicate, empty-shape-overflowing
    ///   or reserved names; ``SafetensorsError/io(file:operation:reason:)`` when the file cannot be created.
    public init(path: String, tensors: [TensorSpec], metadata: [String: String] = [:]) throws {
        self.path = path
        self.header = try SafetensorsHeader(tensors: tensors, metadata: metadata)
        self.file = try AtomicFileWriter(destination: path)
        try file.write(header.encoded())
    }

    /// Starts writing `path`; `tensors` are `(name, dtype, shape)` in the order their bytes will be appended.
    public convenience init(path: String, tensors: [(name: String, dtype: DType, shape: [Int])],
                            metadata: [String: String] = [:]) throws {
        try self.init(path: path, tensors: tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) },
                      metadata: metadata)
    }

    /// Data bytes still expected before ``commit()``.
    public var remainingByteCount: Int64 { header.dataByteCount - dataBytesWritten }

    /// The tensor the next appended byte belongs to (nil when all bytes are in).
    public var currentTensor: TensorInfo? {
        header.tensors.first { $0.dataOffsets.upperBound > dataBytesWritten }
    }

    /// Appends the next data bytes.
    /// - Throws: ``SafetensorsError/tooManyBytes(file:expected:got:)`` past the promised size (nothing is written then).
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard !closed else { throw SafetensorsError.writerClosed(file: path) }
        guard Int64(bytes.count) <= remainingByteCount else {
            throw SafetensorsError.tooManyBytes(file: path, expected: header.dataByteCount,
                                                got: dataBytesWritten + Int64(bytes.count))
        }
        try file.write(bytes)
        dataBytesWritten += Int64(bytes.count)
    }

    /// Appends the next data bytes.
    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Appends the raw (native little-endian) bytes of `values`.
    public func append<T: BitwiseCopyable>(contentsOf values: [T]) throws {
        try values.withUnsafeBytes { try append($0) }
    }

    /// Publishes the file atomically (fsync, rename into place).
    /// - Throws: ``SafetensorsError/incomplete(file:expected:written:tensor:)`` if fewer bytes than
    ///   promised were appended; the temporary file is removed and nothing is published.
    public func commit() throws {
        guard !closed else { throw SafetensorsError.writerClosed(file: path) }
        guard remainingByteCount == 0 else {
            let tensor = currentTensor?.name
            abort()
            throw SafetensorsError.incomplete(file: path, expected: header.dataByteCount,
                                              written: dataBytesWritten, tensor: tensor)
        }
        closed = true
        try file.commit()
    }

    /// Discards everything written; `path` is left as it was.
    public func abort() {
        closed = true
        file.abort()
    }
}
