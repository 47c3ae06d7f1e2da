import FerrySupport
import FerryTensors

/// Produces the bytes of the quantized safetensors file for a model, without writing it anywhere.
///
/// The model is read tensor by tensor in block-aligned slices of at most `bufferSize` input bytes,
/// so memory stays at about three buffers whatever the model size. A block-wise tensor is read
/// twice: once for its absmax values (stored first), once for its codes. For nf4-dq and fp4-dq the
/// first read collects the tensor's f32 absmax values (4 bytes per 64 values) and double-quantizes
/// them in a second, small pass; their 8-bit codes are kept until the tensor's codes are written.
///
/// ```swift
/// let source = try QuantizingSource(modelPath: "model.safetensors", format: .nf4)
/// print(source.expectedByteCount!, source.header.tensors.count)
/// try source.pipe(into: AtomicFileSink(path: "model.nf4.safetensors"))
/// ```
public final class QuantizingSource: ByteSource {
    /// The model being quantized.
    public let modelPath: String
    /// The format.
    public let format: QuantFormat
    /// The header of the quantized file (tensor layout), known before any byte is read.
    public let header: SafetensorsHeader
    /// Size of the quantized file.
    public let expectedByteCount: Int64?
    /// Bytes of the header plus every absmax tensor (the "meta" of NVFlare's size report).
    public let metaByteCount: Int64
    /// Threads used by the codecs.
    public let threads: Int

    private let reader: SafetensorsReader
    private let parts: [QuantizedPart]
    private let headerBytes: [UInt8]
    private let sliceElements: Int
    private let input: UnsafeMutableRawBufferPointer
    private let staging: UnsafeMutableRawBufferPointer
    private let scratchAbsmax: UnsafeMutablePointer<Float>
    /// The double-quantized absmax of the tensor being written (nf4-dq, fp4-dq).
    private var doubleQuantized: (name: String, absmax: DoubleQuantizedAbsmax)?
    private var stagedStart = 0
    private var stagedEnd = 0
    private var headerSent = 0
    private var partIndex = 0
    /// Position in the current part: elements (cast, absmax, codes) or bytes (copy).
    private var cursor: Int64 = 0

    /// The default buffer size (4 MiB of input per slice).
    public static let defaultBufferSize = 4 << 20

    /// Opens `modelPath` and lays out the quantized file.
    /// - Parameter bufferSize: input bytes read per slice (rounded to a multiple of 4096 elements).
    /// - Throws: ``SafetensorsError`` for an unreadable model, ``QuantError`` when it is already
    ///   quantized or its names collide with the quantized layout.
    public init(modelPath: String, format: QuantFormat, bufferSize: Int = defaultBufferSize,
                threads: Int = QuantCodec.defaultThreadCount) throws {
        self.modelPath = modelPath
        self.format = format
        self.threads = threads
        reader = try SafetensorsReader(path: modelPath)
        let layout = try QuantizedLayout.forQuantizing(reader.header, format: format, file: modelPath)
        header = layout.header
        parts = layout.parts
        headerBytes = layout.header.encoded()
        expectedByteCount = layout.header.totalByteCount
        metaByteCount = layout.metaByteCount
        let alignment = QuantCodec.splitAlignment
        sliceElements = max(alignment, bufferSize / 4 / alignment * alignment)
        input = .allocate(byteCount: sliceElements * 4, alignment: 64)
        staging = .allocate(byteCount: sliceElements * 4, alignment: 64)
        scratchAbsmax = .allocate(capacity: sliceElements / 64 + 1)
    }

    deinit {
        input.deallocate()
        staging.deallocate()
        scratchAbsmax.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            if headerSent < headerBytes.count {
                let n = min(buffer.count - filled, headerBytes.count - headerSent)
                headerBytes.withUnsafeBytes { h in
                    (buffer.baseAddress! + filled).copyMemory(from: h.baseAddress! + headerSent, byteCount: n)
                }
                headerSent += n
                filled += n
                continue
            }
            if stagedStart == stagedEnd {
                guard try produceSlice() else { break }
            }
            let n = min(buffer.count - filled, stagedEnd - stagedStart)
            (buffer.baseAddress! + filled).copyMemory(from: staging.baseAddress! + stagedStart, byteCount: n)
            stagedStart += n
            filled += n
        }
        return filled
    }

    /// Fills `staging` with the next slice of output; false at the end of the file.
    private func produceSlice() throws -> Bool {
        while partIndex < parts.count {
            let part = parts[partIndex]
            let source = try reader.tensor(named: part.original.name)
            let bytewise = part.kind == .copy || part.kind.isDoubleQuantizedAbsmax
            let total = bytewise ? part.stored.byteCount : part.elementCount
            guard cursor < total else {
                if part.kind == .codes { doubleQuantized = nil }
                partIndex += 1
                cursor = 0
                continue
            }
            stagedStart = 0
            if part.kind.isDoubleQuantizedAbsmax {
                let dq = try doubleQuantizedAbsmax(part, source: source)
                let n = Int(min(Int64(staging.count), total - cursor))
                func stage(_ bytes: UnsafeRawBufferPointer) {
                    staging.baseAddress!.copyMemory(from: bytes.baseAddress! + Int(cursor), byteCount: n)
                }
                switch part.kind {
                case .absmaxCodes: dq.codes.withUnsafeBytes(stage)
                case .absmaxScales: dq.scales.withUnsafeBytes(stage)
                default: withUnsafeBytes(of: dq.offset, stage)
                }
                stagedEnd = n
                cursor += Int64(n)
                return true
            }
            if part.kind == .copy {
                let n = Int(min(Int64(staging.count), total - cursor))
                try reader.read(source, byteRange: cursor..<(cursor + Int64(n)), into: staging)
                stagedEnd = n
                cursor += Int64(n)
                return true
            }
            let type = part.sourceType!, format = part.format!
            let count = Int(min(Int64(sliceElements), total - cursor))
            let size = Int64(type.byteSize)
            try reader.read(source, byteRange: (cursor * size)..<((cursor + Int64(count)) * size), into: input)
            switch part.kind {
            case .absmax:
                QuantCodec.absmax(format: format, source: input.baseAddress!, type: type, count: count,
                                  into: staging.baseAddress!.assumingMemoryBound(to: Float.self), threads: threads)
                stagedEnd = Int(format.blockCount(elements: Int64(count))) * 4
            case .cast, .codes:
                QuantCodec.encode(format: format, source: input.baseAddress!, type: type, count: count,
                                  payload: staging.baseAddress!, absmax: scratchAbsmax, threads: threads)
                stagedEnd = Int(format.payloadByteCount(elements: Int64(count)))
            case .copy, .absmaxCodes, .absmaxScales, .absmaxOffset:
                break
            }
            cursor += Int64(count)
            return true
        }
        return false
    }

    /// The double-quantized absmax of `part`'s tensor: read once, slice by slice, for its f32 absmax.
    private func doubleQuantizedAbsmax(_ part: QuantizedPart, source: TensorInfo) throws -> DoubleQuantizedAbsmax {
        if let dq = doubleQuantized, dq.name == part.original.name { return dq.absmax }
        let type = part.sourceType!, format = part.format!
        let size = Int64(type.byteSize)
        var absmax = [Float](repeating: 0, count: Int(format.blockCount(elements: part.elementCount)))
        var position: Int64 = 0
        try absmax.withUnsafeMutableBufferPointer { a in
            while position < part.elementCount {
                let count = Int(min(Int64(sliceElements), part.elementCount - position))
                try reader.read(source, byteRange: (position * size)..<((position + Int64(count)) * size), into: input)
                QuantCodec.absmax(format: format, source: input.baseAddress!, type: type, count: count,
                                  into: a.baseAddress! + Int(position) / format.blockSize!, threads: threads)
                position += Int64(count)
            }
        }
        let dq = DoubleQuantizedAbsmax(absmax: absmax)
        doubleQuantized = (part.original.name, dq)
        return dq
    }
}
