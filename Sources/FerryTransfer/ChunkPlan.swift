import Foundation

/// One chunk of a plan: where its payload sits in the stream, and its info JSON.
struct ChunkSpec: Equatable {
    var offset: Int64
    var length: Int
    var info: [UInt8]
}

/// A named byte range of the stream used to cut container-mode chunks: the safetensors header
/// (`name == nil`) or one tensor's data.
public struct StreamSegment: Equatable, Sendable {
    /// Tensor name; nil for the header.
    public var name: String?
    /// First stream byte of the segment.
    public var start: Int64
    /// One past the last stream byte.
    public var end: Int64

    /// A segment of the stream.
    public init(name: String?, start: Int64, end: Int64) {
        self.name = name
        self.start = start
        self.end = end
    }
}

/// How a stream is cut into chunks; deterministic, so a restarted sender cuts it the same way.
struct ChunkPlan {
    let chunks: [ChunkSpec]
    let streamSize: Int64

    /// Fixed-size chunks (file mode).
    static func fixed(streamSize: Int64, chunkSize: Int) -> ChunkPlan {
        var chunks = [ChunkSpec]()
        var off: Int64 = 0
        while off < streamSize {
            let len = Int(min(Int64(chunkSize), streamSize - off))
            chunks.append(ChunkSpec(offset: off, length: len, info: []))
            off += Int64(len)
        }
        return ChunkPlan(chunks: chunks, streamSize: streamSize)
    }

    /// Chunks cut on segment (tensor) boundaries (see ``ContainerChunker``).
    static func container(segments: [StreamSegment], streamSize: Int64, chunkSize: Int) -> ChunkPlan {
        var chunker = ContainerChunker(segments: segments, streamSize: streamSize, chunkSize: chunkSize)
        var chunks = [ChunkSpec]()
        while let spec = chunker.next() { chunks.append(spec) }
        return ChunkPlan(chunks: chunks, streamSize: streamSize)
    }

    /// Sorted, contiguous segments covering [0, streamSize), each with the end of its own data
    /// (before any gap attached to it).
    static func normalized(_ input: [StreamSegment], streamSize: Int64) -> [(StreamSegment, Int64)] {
        let sorted = input.filter { $0.end > $0.start }.sorted { $0.start < $1.start }
        var out = [(StreamSegment, Int64)]()
        var pos: Int64 = 0
        for seg in sorted where seg.end > pos {
            var s = seg
            if s.start > pos {
                if out.isEmpty {
                    out.append((StreamSegment(name: nil, start: pos, end: s.start), s.start))
                } else {
                    out[out.count - 1].0.end = s.start
                }
            }
            s.start = max(s.start, pos)
            out.append((s, s.end))
            pos = s.end
        }
        if pos < streamSize {
            if out.isEmpty { out.append((StreamSegment(name: nil, start: pos, end: streamSize), streamSize)) }
            else { out[out.count - 1].0.end = streamSize }
        }
        return out
    }
}

/// The info JSON of a container-mode chunk: which header bytes and tensor byte ranges it holds.
public struct ChunkInfo: Codable, Equatable, Sendable, JSONRecord {
    /// A piece of one tensor inside a chunk.
    public struct TensorPart: Codable, Equatable, Sendable {
        /// Tensor name.
        public var name: String
        /// First byte of the tensor's data held (relative to the tensor's data).
        public var start: Int64
        /// One past the last byte held.
        public var end: Int64
        /// The tensor's full data size: the tensor is complete when a chunk holds its `end == size`.
        public var size: Int64
    }
    /// The chunk holds (part of) the safetensors header.
    public var header: Bool
    /// Tensor pieces, in stream order.
    public var tensors: [TensorPart]

    struct Part {
        var segment: StreamSegment
        var dataEnd: Int64
        var from: Int64
        var to: Int64
    }

    /// Chunk info with the given contents.
    init(header: Bool, tensors: [TensorPart]) {
        self.header = header
        self.tensors = tensors
    }

    init(parts: [Part]) {
        header = parts.contains { $0.segment.name == nil }
        tensors = parts.compactMap { p in
            guard let name = p.segment.name else { return nil }
            let size = p.dataEnd - p.segment.start
            let start = min(p.from - p.segment.start, size)
            let end = min(p.to - p.segment.start, size)
            guard end > start || size == 0 else { return nil }
            return TensorPart(name: name, start: start, end: end, size: size)
        }
    }

    static var isPrettyPrinted: Bool { false }
}
