import SystemPackage

/// A file open for reading, on swift-system's `FileDescriptor` (interrupted calls are retried
/// there); closed when the value is dropped.
public final class ReadableFile: Sendable {
    /// The path it was opened at, for messages.
    public let path: String
    /// The open descriptor.
    public let descriptor: FileDescriptor

    /// Opens `path` for reading.
    /// - Parameter followSymlinks: with `false` a symlink at `path` is refused (`O_NOFOLLOW`).
    public init(path: String, followSymlinks: Bool = true) throws(SupportError) {
        self.path = path
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly,
                                                 options: followSymlinks ? [] : [.noFollow])
        } catch {
            throw .ioFailure(path: path, operation: "open for reading", error: error)
        }
    }

    deinit { try? descriptor.close() }

    /// `fstat(2)` of the open file.
    public func status() throws(SupportError) -> Stat {
        do { return try descriptor.stat() } catch { throw .ioFailure(path: path, operation: "stat", error: error) }
    }

    /// The size of the open file, which must be a regular file.
    /// - Throws: ``SupportError/notRegularFile(path:)`` for a directory, device, FIFO or socket.
    public func regularFileSize() throws(SupportError) -> Int64 {
        let st = try status()
        guard st.type == .regular else { throw .notRegularFile(path: path) }
        return st.size
    }

    /// Reads up to `buffer.count` bytes at the current position; 0 at the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SupportError) -> Int {
        do { return try descriptor.read(into: buffer) } catch { throw .ioFailure(path: path, operation: "read", error: error) }
    }

    /// Reads up to `buffer.count` bytes at `offset`, retrying short reads; returns how many were read
    /// (fewer only at the end of the file).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SupportError) -> Int {
        var done = 0
        while done < buffer.count {
            let n: Int
            do {
                n = try descriptor.read(fromAbsoluteOffset: offset + Int64(done),
                                        into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            } catch {
                throw .ioFailure(path: path, operation: "read", error: error)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Calls `body` with the file's bytes from the current position to the end, in pieces of at most
    /// `pieceSize` bytes.
    public func forEachPiece(pieceSize: Int = 1 << 20,
                             _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: pieceSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = try read(into: buffer)
            if n == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}
