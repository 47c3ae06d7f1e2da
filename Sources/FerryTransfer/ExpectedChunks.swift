import FerryTensors

/// The receiver's own derivation of the sender's chunk plan (docs/transfer-protocol.md §2 and §9):
/// every chunk's payload length and info must be the ones the plan gives at its offset, and the plan
/// must end exactly with chunk `chunkCount`.
///
/// File mode knows the plan from the manifest. Container mode derives it from the safetensors header
/// at the start of the stream: until the header's last byte has arrived, every chunk must be a full
/// `chunkSize` piece of the header (which is what the plan gives there). The plan is followed lazily,
/// chunk by chunk, so a manifest announcing a huge stream costs nothing up front.
struct ExpectedChunks {
    private let mode: TransferMode
    private let chunkSize: Int64
    private let streamSize: Int64
    private let chunkCount: Int
    private let label: String
    /// Container mode: the first stream bytes, up to the end of the header, while it is incomplete.
    private var prefix: [UInt8] = []
    /// Container mode: the plan, once the header is known.
    private var chunker: ContainerChunker?
    /// Container mode: chunks consumed before the header was known (all header pieces).
    private var headerPieces = 0

    /// Checks the manifest's counts against each other; a mismatch is a refusal.
    init(manifest: TransferManifest) throws(Refusal) {
        mode = manifest.mode
        chunkSize = Int64(manifest.chunkSize)
        streamSize = manifest.streamSize
        chunkCount = manifest.chunkCount
        label = "the stream of transfer \(manifest.transferId)"
        let (quotient, remainder) = streamSize.quotientAndRemainder(dividingBy: chunkSize)
        let minimum = quotient + (remainder > 0 ? 1 : 0)
        switch mode {
        case .file:
            guard Int64(chunkCount) == minimum else {
                throw Refusal(reason: "manifest has impossible sizes: chunkCount is \(chunkCount) but the file-mode plan of a \(streamSize)-byte stream in \(chunkSize)-byte chunks has \(minimum)")
            }
        case .container:
            guard streamSize >= 8 else {
                throw Refusal(reason: "manifest has impossible sizes: streamSize \(streamSize) cannot hold a safetensors file (container mode)")
            }
            guard Int64(chunkCount) >= minimum, Int64(chunkCount) <= streamSize else {
                throw Refusal(reason: "manifest has impossible sizes: chunkCount \(chunkCount) is outside \(minimum)…\(streamSize) for a \(streamSize)-byte stream in \(chunkSize)-byte chunks")
            }
        }
    }

    /// Re-derives the plan up to chunk `consumed` after a restart; `read(n)` returns the first `n`
    /// bytes of the received stream (`n` at most the bytes consumed).
    mutating func resume(consumed: Int, bytes: Int64, read: (Int) throws -> [UInt8]) throws {
        guard mode == .container, consumed > 0 else { return }
        var start = try read(Int(min(bytes, 8)))
        if start.count == 8, let n = try? headerJSONLength(start) { start = try read(Int(min(bytes, 8 + Int64(n)))) }
        try start.withUnsafeBytes { try absorb($0) }
        if chunker == nil {
            headerPieces = consumed
        } else {
            for _ in 0..<consumed { _ = chunker?.next() }
        }
    }

    /// Checks chunk `index` (its header's offset already matched the bytes received) and advances.
    mutating func accept(index: Int, name: String, offset: Int64, payload: UnsafeRawBufferPointer,
                         info: UnsafeRawBufferPointer) throws(Refusal) {
        let length = Int64(payload.count)
        switch mode {
        case .file:
            let expected = min(chunkSize, streamSize - offset)
            guard length == expected else {
                throw Refusal(reason: "\(name) holds \(length) bytes at offset \(offset) but the chunk plan gives \(expected) (made-up chunk sizes)")
            }
            guard info.isEmpty else {
                throw Refusal(reason: "\(name) carries \(info.count) bytes of info but file-mode chunks have none")
            }
        case .container:
            if chunker == nil { try absorb(payload) }
            let expected: (offset: Int64, length: Int64, info: ChunkInfo?)
            if var plan = chunker {
                for _ in 0..<headerPieces { _ = plan.next() }
                headerPieces = 0
                guard let spec = plan.next() else {
                    throw Refusal(reason: "\(name) is beyond the chunk plan of \(label) (the manifest announces \(chunkCount) chunks)")
                }
                chunker = plan
                expected = (spec.offset, Int64(spec.length), ChunkInfo.decode(spec.info))
            } else {
                // The header is still incomplete: the plan gives a full piece of it.
                expected = (offset, chunkSize, ChunkInfo(header: true, tensors: []))
                headerPieces += 1
            }
            guard expected.offset == offset, expected.length == length else {
                throw Refusal(reason: "\(name) holds \(length) bytes at offset \(offset) but the chunk plan gives \(expected.length) bytes at \(expected.offset) (made-up chunk sizes)")
            }
            guard let got = ChunkInfo.decode(Array(info)), got == expected.info else {
                let planned = expected.info.map { Self.excerpt($0.encoded()) } ?? "?"
                throw Refusal(reason: "\(name) has info \(Self.excerpt(Array(info))) but the chunk plan gives \(planned) (made-up chunk info)")
            }
        }
        let end = offset + length
        if index < chunkCount, end == streamSize {
            throw Refusal(reason: "the chunk plan of \(label) ends with \(name) but the manifest announces \(chunkCount) chunks")
        }
        if index == chunkCount, end != streamSize {
            throw Refusal(reason: "the manifest announces \(chunkCount) chunks but the chunk plan of \(label) has more (\(name) ends at \(end) of \(streamSize) bytes)")
        }
    }

    /// Adds the header bytes among `bytes` (the next stream bytes) to the prefix and derives the plan
    /// once the header is whole.
    private mutating func absorb(_ bytes: UnsafeRawBufferPointer) throws(Refusal) {
        var rest = bytes[...]
        if prefix.count < 8 {
            let take = min(8 - prefix.count, rest.count)
            prefix += rest.prefix(take)
            rest = rest.dropFirst(take)
        }
        guard prefix.count >= 8 else { return }
        let jsonLength: Int
        do { jsonLength = try headerJSONLength(prefix) } catch { throw Refusal(reason: "container-mode stream: \(error)") }
        let end = 8 + jsonLength
        guard Int64(end) <= streamSize else {
            throw Refusal(reason: "container-mode stream: its safetensors header (\(end) bytes) is longer than the \(streamSize)-byte stream")
        }
        prefix += rest.prefix(end - prefix.count)
        guard prefix.count == end else { return }
        let header: SafetensorsHeader
        do { header = try SafetensorsHeader.parse(prefix, fileSize: streamSize, source: label) } catch {
            throw Refusal(reason: "container-mode stream is not a valid safetensors file: \(error)")
        }
        chunker = ContainerChunker(segments: FilterBridge.segments(of: header), streamSize: streamSize, chunkSize: Int(chunkSize))
        prefix = []
    }

    private func headerJSONLength(_ bytes: [UInt8]) throws(SafetensorsError) -> Int {
        let result: Result<Int, SafetensorsError> = bytes.withUnsafeBytes { raw in
            do throws(SafetensorsError) {
                return .success(try SafetensorsHeader.jsonByteCount(prefix: raw, fileSize: streamSize, source: label))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// At most 200 bytes of a JSON text, for a refusal reason.
    private static func excerpt(_ bytes: [UInt8]) -> String {
        bytes.count <= 200 ? String(decoding: bytes, as: UTF8.self) : String(decoding: bytes.prefix(200), as: UTF8.self) + "…"
    }
}
