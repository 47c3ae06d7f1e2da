/// Cuts a container-mode stream into chunks one at a time (docs/transfer-protocol.md §2): segments are
/// grouped while they fit in `chunkSize`; a segment that does not fit in the current chunk closes it
/// (when it is not empty); a segment larger than `chunkSize` that starts an empty chunk is split in
/// `chunkSize` pieces, its last piece grouped with what follows. A chunk closes as soon as it holds
/// `chunkSize` bytes. Lazy, so a receiver can follow a plan whose size it does not trust.
struct ContainerChunker {
    private let segments: [(StreamSegment, Int64)]
    private let limit: Int64
    private var segmentIndex = 0
    private var position: Int64
    private var chunkStart: Int64 = 0
    private var chunkEnd: Int64 = 0
    private var parts = [ChunkInfo.Part]()

    /// Segments must be contiguous from 0 to `streamSize` (gaps are attached to the previous segment).
    init(segments: [StreamSegment], streamSize: Int64, chunkSize: Int) {
        self.segments = ChunkPlan.normalized(segments, streamSize: streamSize)
        limit = Int64(chunkSize)
        position = self.segments.first?.0.start ?? 0
    }

    /// The next chunk of the plan; nil after the last one.
    mutating func next() -> ChunkSpec? {
        while segmentIndex < segments.count {
            let (segment, dataEnd) = segments[segmentIndex]
            guard position < segment.end else {
                segmentIndex += 1
                if segmentIndex < segments.count { position = segments[segmentIndex].0.start }
                continue
            }
            let room = limit - (chunkEnd - chunkStart)
            let remaining = segment.end - position
            let take: Int64
            if remaining <= room {
                take = remaining
            } else if chunkEnd > chunkStart {
                return close()
            } else {
                take = limit
            }
            parts.append(ChunkInfo.Part(segment: segment, dataEnd: dataEnd, from: position, to: position + take))
            chunkEnd = position + take
            position += take
            if chunkEnd - chunkStart == limit { return close() }
        }
        return close()
    }

    private mutating func close() -> ChunkSpec? {
        guard chunkEnd > chunkStart else { return nil }
        let spec = ChunkSpec(offset: chunkStart, length: Int(chunkEnd - chunkStart), info: ChunkInfo(parts: parts).encoded())
        chunkStart = chunkEnd
        parts = []
        return spec
    }
}
