import FerrySupport
import FerryTensors

/// Where a ``DequantizingSink`` puts the restored model: a file, or a comparison with the original.
protocol RestoredModelOutput: AnyObject {
    /// Called once, when the quantized header has been read.
    func begin(tensors: [TensorSpec], metadata: [String: String]) throws
    /// The restored model's data bytes, in order; `decoded` is true for whole values decoded from
    /// a quantized tensor, false for bytes of a tensor stored unchanged.
    func append(_ bytes: UnsafeRawBufferPointer, decoded: Bool) throws
    /// All bytes are in.
    func finish() throws
    /// Abandon the output.
    func cancel()
}

/// Writes the restored model with a ``SafetensorsWriter`` (published atomically on finish).
final class RestoredFileOutput: RestoredModelOutput {
    let path: String
    private var writer: SafetensorsWriter?

    init(path: String) { self.path = path }

    func begin(tensors: [TensorSpec], metadata: [String: String]) throws {
        writer = try SafetensorsWriter(path: path, tensors: tensors, metadata: metadata)
    }
    func append(_ bytes: UnsafeRawBufferPointer, decoded: Bool) throws { try writer?.append(bytes) }
    func finish() throws { try writer?.commit() }
    func cancel() { writer?.abort() }
}

/// Consumes the bytes of a quantized safetensors file, in pieces of any size, and writes the
/// restored model — every tensor in its source dtype and shape, the original `__metadata__` —
/// atomically on ``finish()``.
///
/// Memory: a staging buffer (1 MiB of codes, 8 MiB decoded) plus the absmax values of one tensor
/// (1/16 of a 4-bit tensor's f32 size; 1/256 for nf4-dq and fp4-dq, whose 8-bit absmax codes are
/// restored to f32 one staging buffer at a time). The header is checked before anything is written:
/// a file that is not ferry-quantized, or whose entries do not match its tensors, is refused.
///
/// ```swift
/// let sink = DequantizingSink(destination: "restored.safetensors")
/// try FileByteSource(path: "model.nf4.safetensors").pipe(into: sink)
/// ```
public final class DequantizingSink: ByteSink {
    /// Where the restored model is published.
    public let destination: String
    /// The quantized file's header, once its bytes have arrived.
    public private(set) var header: SafetensorsHeader?
    /// Bytes consumed so far.
    public private(set) var bytesReceived: Int64 = 0
    /// Threads used by the codecs.
    public let threads: Int

    private let output: RestoredModelOutput
    private var headerBuffer: [UInt8] = []
    private var headerLength: Int?
    private var parts: [QuantizedPart] = []
    private var partIndex = 0
    /// Bytes of the current part received so far.
    private var partBytes: Int64 = 0
    /// Elements of the current part decoded so far.
    private var decodedElements: Int64 = 0
    /// Absmax bytes received, by original tensor name (kept until its codes are decoded).
    private var absmax: [String: [UInt8]] = [:]
    /// The stored absmax parts of double-quantized tensors, by original tensor name (kept as `absmax`).
    private var doubleQuantizedParts: [String: [QuantizedPart.Kind: [UInt8]]] = [:]
    /// f32 absmax restored for the codes of one staging buffer (double-quantized formats).
    private let restoredAbsmax: UnsafeMutablePointer<Float>
    private let staging: UnsafeMutableRawBufferPointer
    private var staged = 0
    private let decoded: UnsafeMutableRawBufferPointer
    private var closed = false

    /// Bytes of codes staged before decoding (a multiple of every block's code bytes).
    static let stagingByteCount = 1 << 20

    /// Prepares to restore a model into `destination` (nothing is created until the header arrives).
    public convenience init(destination: String, threads: Int = QuantCodec.defaultThreadCount) {
        self.init(output: RestoredFileOutput(path: destination), label: destination, threads: threads)
    }

    init(output: RestoredModelOutput, label: String, threads: Int = QuantCodec.defaultThreadCount) {
        self.destination = label
        self.output = output
        self.threads = threads
        staging = .allocate(byteCount: Self.stagingByteCount, alignment: 64)
        decoded = .allocate(byteCount: Self.stagingByteCount * 8, alignment: 64)
        restoredAbsmax = .allocate(capacity: Self.stagingByteCount * 2 / 64)
    }

    deinit {
        staging.deallocate()
        decoded.deallocate()
        restoredAbsmax.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !closed else { throw QuantError.sinkClosed(file: destination) }
        do {
            try consume(bytes)
        } catch {
            cancel()
            throw error
        }
    }

    public func finish() throws {
        guard !closed else { throw QuantError.sinkClosed(file: destination) }
        let expected = header?.totalByteCount ?? Int64(8 + (headerLength ?? 0))
        guard let header, bytesReceived == header.totalByteCount else {
            cancel()
            throw QuantError.truncatedStream(file: destination, expected: expected, received: bytesReceived)
        }
        closed = true
        try output.finish()
    }

    public func cancel() {
        guard !closed else { return }
        closed = true
        output.cancel()
    }

    private func consume(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            if header == nil {
                rest = try consumeHeader(rest)
                continue
            }
            guard partIndex < parts.count else {
                throw QuantError.extraBytes(file: destination, expected: header!.totalByteCount)
            }
            let part = parts[partIndex]
            let take = Int(min(Int64(rest.count), part.stored.byteCount - partBytes))
            let piece = UnsafeRawBufferPointer(rebasing: rest[0..<take])
            switch part.kind {
            case .copy:
                try output.append(piece, decoded: false)
            case .absmax:
                absmax[part.original.name, default: []].append(contentsOf: piece)
            case .absmaxCodes, .absmaxScales, .absmaxOffset:
                doubleQuantizedParts[part.original.name, default: [:]][part.kind, default: []].append(contentsOf: piece)
            case .cast, .codes:
                var offset = 0
                while offset < piece.count {
                    let n = min(piece.count - offset, staging.count - staged)
                    (staging.baseAddress! + staged).copyMemory(from: piece.baseAddress! + offset, byteCount: n)
                    staged += n
                    offset += n
                    if staged == staging.count { try flush(part) }
                }
            }
            partBytes += Int64(take)
            bytesReceived += Int64(take)
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if partBytes == part.stored.byteCount { try endPart(part) }
        }
    }

    /// Collects header bytes; returns what is left of `bytes`.
    private func consumeHeader(_ bytes: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer {
        let needed = (headerLength.map { 8 + $0 } ?? 8) - headerBuffer.count
        let take = min(needed, bytes.count)
        headerBuffer.append(contentsOf: bytes[0..<take])
        bytesReceived += Int64(take)
        let rest = UnsafeRawBufferPointer(rebasing: bytes[take...])
        guard headerBuffer.count == (headerLength.map { 8 + $0 } ?? 8) else { return rest }
        if headerLength == nil {
            headerLength = try headerBuffer.withUnsafeBytes { raw throws(SafetensorsError) in
                try SafetensorsHeader.jsonByteCount(prefix: raw, source: destination)
            }
            if headerLength! > 0 { return rest }
        }
        let parsed = try SafetensorsHeader.parse(headerBuffer, source: destination)
        let layout = try QuantizedLayout.forRestoring(parsed, file: destination)
        header = parsed
        headerBuffer = []
        parts = layout.parts
        try output.begin(tensors: layout.restoredTensors, metadata: layout.restoredMetadata)
        // Parts with no bytes (empty tensors) end at once.
        while partIndex < parts.count, parts[partIndex].stored.byteCount == 0 { try endPart(parts[partIndex]) }
        return rest
    }

    private func endPart(_ part: QuantizedPart) throws {
        if part.kind == .cast || part.kind == .codes { try flush(part) }
        if part.kind == .codes {
            absmax[part.original.name] = nil
            doubleQuantizedParts[part.original.name] = nil
        }
        partIndex += 1
        partBytes = 0
        decodedElements = 0
        while partIndex < parts.count, parts[partIndex].stored.byteCount == 0 {
            partIndex += 1
        }
    }

    /// Decodes the staged bytes (which start on a block boundary) and passes them on.
    private func flush(_ part: QuantizedPart) throws {
        guard staged > 0, let format = part.format, let type = part.sourceType else { return }
        let count: Int
        switch format {
        case .fp16, .bf16: count = staged / 2
        case .blockwise8: count = staged
        case .fp4, .nf4, .fp4dq, .nf4dq: count = Int(min(Int64(staged * 2), part.elementCount - decodedElements))
        }
        let firstBlock = Int(decodedElements) / (format.blockSize ?? 1)
        func decode(_ blocks: UnsafePointer<Float>?) throws {
            QuantCodec.decode(format: format, payload: staging.baseAddress!, absmax: blocks, count: count,
                              into: decoded.baseAddress!, type: type, threads: threads)
            try output.append(UnsafeRawBufferPointer(rebasing: decoded[0..<(count * type.byteSize)]), decoded: true)
        }
        if format.isDoubleQuantized {
            restoreAbsmax(of: part.original.name, firstBlock: firstBlock, count: Int(format.blockCount(elements: Int64(count))))
            try decode(restoredAbsmax)
        } else {
            try absmax[part.original.name, default: []].withUnsafeBytes { a in
                try decode(a.baseAddress.map { $0.assumingMemoryBound(to: Float.self) + firstBlock })
            }
        }
        decodedElements += Int64(count)
        staged = 0
    }

    /// Restores `count` f32 absmax values of a double-quantized tensor from block `firstBlock` (a
    /// multiple of the 256-value group: a staging buffer holds whole groups) into `restoredAbsmax`.
    private func restoreAbsmax(of name: String, firstBlock: Int, count: Int) {
        let stored = doubleQuantizedParts[name] ?? [:]
        let offsetBytes = stored[.absmaxOffset] ?? [0, 0, 0, 0]
        let offset = offsetBytes.withUnsafeBytes { $0.loadUnaligned(as: Float.self) }
        (stored[.absmaxCodes] ?? []).withUnsafeBufferPointer { codes in
            (stored[.absmaxScales] ?? []).withUnsafeBytes { scales in
                DoubleQuantizedAbsmax.dequantize(
                    codes: codes.baseAddress! + firstBlock,
                    scales: scales.baseAddress!.assumingMemoryBound(to: Float.self) + firstBlock / QuantFormat.absmaxGroupSize,
                    offset: offset, count: count, into: restoredAbsmax)
            }
        }
    }
}
