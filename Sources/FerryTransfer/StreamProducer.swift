import FerryQuant
import FerrySupport
/// Produces the stream of a transfer once, chunk by chunk, from the source file through the filters.
final class StreamProducer {
    let plan: ChunkPlan
    let filters: [TransferFilter]
    let sourceInfo: TransferSourceInfo
    private let sourcePath: String
    private let format: QuantFormat?
    private let mode: TransferMode
    private let chunkSize: Int
    private var fd: Int32 = -1
    private var filtered: ByteSource?
    private var position: Int64 = 0
    /// How many times the source was opened for reading.
    private(set) var passes = 0
    /// Stream bytes produced.
    private(set) var producedBytes: Int64 = 0

    init(sourcePath: String, options: TransferOptions) throws(TransferError) {
        guard let info = FileSystem.info(sourcePath), !FileSystem.isDirectory(sourcePath) else {
            throw .invalidSource(path: sourcePath, reason: "no such file")
        }
        self.sourcePath = sourcePath
        format = options.quantize
        mode = options.mode
        chunkSize = options.chunkSize
        let name = sourcePath.split(separator: "/").last.map(String.init) ?? sourcePath
        sourceInfo = TransferSourceInfo(name: name, size: info.size, sha256: nil)
        if let format {
            filters = [TransferFilter(quantize: format.rawValue)]
            let (source, segments) = try FilterBridge.quantizingSource(path: sourcePath, format: format)
            let size = source.expectedByteCount ?? 0
            plan = mode == .container
                ? ChunkPlan.container(segments: segments, streamSize: size, chunkSize: chunkSize)
                : ChunkPlan.fixed(streamSize: size, chunkSize: chunkSize)
            filtered = source
            passes = 1
        } else {
            filters = []
            plan = mode == .container
                ? ChunkPlan.container(segments: try FilterBridge.containerSegments(path: sourcePath),
                                      streamSize: info.size, chunkSize: chunkSize)
                : ChunkPlan.fixed(streamSize: info.size, chunkSize: chunkSize)
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Positions the stream at `offset` (a chunk start): a seek for files, read-and-discard through filters.
    func seek(to offset: Int64) throws(TransferError) {
        if format == nil {
            position = offset
            return
        }
        if filtered == nil || position > offset {
            filtered = try FilterBridge.quantizingSource(path: sourcePath, format: format!).0
            passes += 1
            position = 0
        }
        guard position < offset, let source = filtered else { return }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { scratch.deallocate() }
        while position < offset {
            let want = Int(min(Int64(scratch.count), offset - position))
            let n = try read(source, into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<want]))
            guard n > 0 else { throw .sourceLengthChanged(path: sourcePath, expected: plan.streamSize, got: position) }
            position += Int64(n)
        }
    }

    /// Fills `buffer` completely with the next stream bytes.
    func read(exactly buffer: UnsafeMutableRawBufferPointer) throws(TransferError) {
        var filled = 0
        while filled < buffer.count {
            let dst = UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])
            let n: Int
            if let source = filtered {
                n = try read(source, into: dst)
            } else {
                try openFile()
                let r = Syscall.retryingInterrupts { pread(fd, dst.baseAddress, dst.count, off_t(position)) }
                guard r >= 0 else { throw TransferError.posix(sourcePath, "read") }
                n = r
            }
            guard n > 0 else {
                throw .sourceLengthChanged(path: sourcePath, expected: plan.streamSize, got: position)
            }
            filled += n
            position += Int64(n)
        }
        producedBytes += Int64(buffer.count)
    }

    private func openFile() throws(TransferError) {
        guard fd < 0 else { return }
        fd = open(sourcePath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TransferError.posix(sourcePath, "open for reading") }
        passes += 1
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
    }

    private func read(_ source: ByteSource, into buffer: UnsafeMutableRawBufferPointer) throws(TransferError) -> Int {
        do { return try source.read(into: buffer) } catch {
            throw .invalidSource(path: sourcePath, reason: String(describing: error))
        }
    }
}
