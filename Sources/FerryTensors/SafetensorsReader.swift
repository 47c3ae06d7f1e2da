import FerrySupport

/// Reads a safetensors file without loading it: the header is parsed and validated on open,
/// tensor bytes are read on demand (`pread`) into buffers the caller provides.
///
/// Memory use is the header plus the caller's buffers, whatever the file size. Reads are
/// positional, so one reader may be used from several threads at once.
public final class SafetensorsReader: Sendable {
    /// The file being read.
    public let path: String
    /// The validated header.
    public let header: SafetensorsHeader
    /// The file size at open time (equal to `header.totalByteCount`).
    public let fileSize: Int64
    private let file: ReadableFile

    /// Opens `path` and validates its header.
    /// - Throws: ``SafetensorsError`` naming the file and the problem (see ``SafetensorsHeader``
    ///   for the rules); nothing larger than the announced header (at most 100 MB) is allocated.
    public init(path: String) throws(SafetensorsError) {
        self.path = path
        let file: ReadableFile
        let size: Int64
        do {
            file = try ReadableFile(path: path)
            size = try file.regularFileSize()
        } catch {
            throw Self.ioError(error, path: path)
        }
        guard size >= 8 else { throw SafetensorsError.fileTooSmall(file: path, size: size) }
        let prefix = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer { prefix.deallocate() }
        try Self.readFully(file, offset: 0, into: prefix)
        let n = try SafetensorsHeader.jsonByteCount(prefix: UnsafeRawBufferPointer(prefix), fileSize: size, source: path)
        let headerBytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 + n, alignment: 8)
        defer { headerBytes.deallocate() }
        try Self.readFully(file, offset: 0, into: headerBytes)
        self.header = try SafetensorsHeader.parse(UnsafeRawBufferPointer(headerBytes), fileSize: size, source: path)
        self.fileSize = size
        self.file = file
    }

    /// Reads exactly `buffer.count` bytes at `offset`; a file that ends first is truncated.
    private static func readFully(_ file: ReadableFile, offset: Int64,
                                  into buffer: UnsafeMutableRawBufferPointer) throws(SafetensorsError) {
        let got: Int
        do { got = try file.read(into: buffer, at: offset) } catch { throw ioError(error, path: file.path) }
        if got < buffer.count { throw .truncated(file: file.path, offset: offset, expected: buffer.count, got: got) }
    }

    private static func ioError(_ error: SupportError, path: String) -> SafetensorsError {
        switch error {
        case let .io(_, operation, errno): return .io(file: path, operation: operation, reason: errno.description)
        case .notRegularFile: return .io(file: path, operation: "read a safetensors file from it", reason: "not a regular file")
        default: return .io(file: path, operation: "read", reason: error.description)
        }
    }

    /// The tensors, sorted by offset.
    public var tensors: [TensorInfo] { header.tensors }
    /// The `__metadata__` entries.
    public var metadata: [String: String] { header.metadata }

    /// The tensor called `name`.
    public func tensor(named name: String) throws(SafetensorsError) -> TensorInfo {
        guard let t = header.tensor(named: name) else { throw .noSuchTensor(file: path, name: name) }
        return t
    }

    /// Reads `byteRange` (relative to the start of the tensor) of `tensor` into the start of `buffer`.
    public func read(_ tensor: TensorInfo, byteRange: Range<Int64>,
                     into buffer: UnsafeMutableRawBufferPointer) throws(SafetensorsError) {
        guard byteRange.lowerBound >= 0, byteRange.upperBound <= tensor.byteCount,
              tensor.dataOffsets.upperBound <= header.dataByteCount else {
            throw .rangeOutsideTensor(file: path, tensor: tensor.name, range: "\(byteRange)", byteCount: tensor.byteCount)
        }
        guard Int64(buffer.count) >= Int64(byteRange.count) else {
            throw .bufferTooSmall(needed: Int64(byteRange.count), available: buffer.count)
        }
        let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(byteRange.count)])
        try Self.readFully(file, offset: header.dataStart + tensor.dataOffsets.lowerBound + byteRange.lowerBound,
                           into: target)
    }

    /// Reads the whole of `tensor` into the start of `buffer` (which must hold `tensor.byteCount` bytes).
    public func read(_ tensor: TensorInfo, into buffer: UnsafeMutableRawBufferPointer) throws(SafetensorsError) {
        try read(tensor, byteRange: 0..<tensor.byteCount, into: buffer)
    }

    /// Reads raw file bytes starting at `fileOffset` (header included) into `buffer`, filling it
    /// unless the file ends first. Returns the number of bytes read.
    public func readFileBytes(at fileOffset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(SafetensorsError) -> Int {
        guard fileOffset >= 0, fileOffset <= fileSize else { return 0 }
        let count = Int(min(Int64(buffer.count), fileSize - fileOffset))
        try Self.readFully(file, offset: fileOffset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
        return count
    }

    /// The largest tensor ``bytes(of:limit:)`` reads whole by default (256 MiB).
    public static let defaultWholeReadLimit: Int64 = 256 << 20

    /// Reads a whole (small) tensor into a new array.
    /// - Throws: ``SafetensorsError/tensorTooLarge(file:tensor:byteCount:limit:)`` above `limit`.
    public func bytes(of tensor: TensorInfo, limit: Int64 = defaultWholeReadLimit) throws(SafetensorsError) -> [UInt8] {
        guard tensor.byteCount <= limit else {
            throw .tensorTooLarge(file: path, tensor: tensor.name, byteCount: tensor.byteCount, limit: limit)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(tensor.byteCount), alignment: 16)
        defer { buffer.deallocate() }
        try read(tensor, into: buffer)
        return [UInt8](buffer)
    }

    /// Calls `body` with consecutive slices of `tensor`'s bytes, each at most `bufferSize` bytes
    /// (rounded down to whole elements), reusing one buffer: memory is bounded by `bufferSize`.
    /// - Parameter body: gets the slice's byte range within the tensor and its bytes.
    public func forEachSlice(of tensor: TensorInfo, bufferSize: Int = 1 << 20,
                             _ body: (Range<Int64>, UnsafeRawBufferPointer) throws -> Void) throws {
        let element = tensor.dtype.byteSize
        let sliceSize = max(element, bufferSize / element * element)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: sliceSize, alignment: 64)
        defer { buffer.deallocate() }
        var start: Int64 = 0
        while start < tensor.byteCount {
            let end = min(tensor.byteCount, start + Int64(sliceSize))
            try read(tensor, byteRange: start..<end, into: buffer)
            try body(start..<end, UnsafeRawBufferPointer(rebasing: buffer[0..<Int(end - start)]))
            start = end
        }
    }
}
