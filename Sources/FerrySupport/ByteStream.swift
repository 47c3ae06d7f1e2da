import SystemPackage

/// A pull-based stream of bytes: a file, a quantizing encoder, a chunk reassembler.
///
/// Producers that transform data (quantization filters) implement this so that a
/// consumer (the transfer sender, `ferry model quantize`) can move a model of any
/// size through a fixed buffer.
public protocol ByteSource: AnyObject {
    /// Total bytes this source will produce, when known up front.
    var expectedByteCount: Int64? { get }
    /// Fills `buffer` with up to `buffer.count` bytes; returns 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A push-based sink of bytes: a file being written, a dequantizing decoder.
public protocol ByteSink: AnyObject {
    /// Consumes `bytes` (any length, any alignment relative to the stream's structure).
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Called once after the last `write`; publishes the result (e.g. renames a file into place).
    func finish() throws
    /// Drops everything written; nothing is published.
    func cancel()
}

extension ByteSource {
    /// Copies this source into `sink` through a buffer of `bufferSize` bytes, then finishes the sink.
    /// - Returns: the number of bytes moved.
    @discardableResult
    public func pipe(into sink: ByteSink, bufferSize: Int = 1 << 20,
                     progress: ((Int64) -> Void)? = nil) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferSize, 1), alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        do {
            while true {
                let n = try read(into: buffer)
                if n == 0 { break }
                try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                total += Int64(n)
                progress?(total)
            }
            try sink.finish()
        } catch {
            sink.cancel()
            throw error
        }
        return total
    }
}

/// Reads a file sequentially.
public final class FileByteSource: ByteSource {
    /// The file being read.
    public let path: String
    private let descriptor: FileDescriptor
    public let expectedByteCount: Int64?

    /// Opens `path` for reading.
    public init(path: String) throws {
        self.path = path
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly)
            let end = try descriptor.seek(offset: 0, from: .end)
            _ = try descriptor.seek(offset: 0, from: .start)
            expectedByteCount = end
        } catch {
            throw SupportError.ioFailure(path: path, operation: "open for reading", error: error)
        }
    }

    deinit { try? descriptor.close() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n: Int
            do {
                n = try descriptor.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]),
                                        retryOnInterrupt: true)
            } catch {
                throw SupportError.ioFailure(path: path, operation: "read", error: error)
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}

/// Writes a file atomically: bytes go to a temporary name, ``finish()`` publishes it.
public final class AtomicFileSink: ByteSink {
    private let writer: AtomicFileWriter

    /// Starts writing `path` (published only on ``finish()``).
    public init(path: String) throws {
        writer = try AtomicFileWriter(destination: path)
    }

    /// Bytes written so far.
    public var bytesWritten: Int64 { writer.bytesWritten }

    public func write(_ bytes: UnsafeRawBufferPointer) throws { try writer.write(bytes) }
    public func finish() throws { try writer.commit() }
    public func cancel() { writer.abort() }
}
