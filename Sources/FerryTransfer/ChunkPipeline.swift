import Foundation

/// Produces chunk files (header, info, payload, digest) on a background thread, one chunk ahead of
/// the thread that publishes them: reading and hashing chunk k + 1 overlaps the write and fsync of
/// chunk k. Two buffers of one chunk each; the producer waits while both are full.
final class ChunkPipeline: @unchecked Sendable {
    /// A chunk file ready to be published.
    struct Chunk {
        /// 1-based chunk index.
        let index: Int
        /// The whole chunk file (header, info, payload); valid until ``release()``.
        let file: UnsafeRawBufferPointer
        /// Payload bytes.
        let payloadLength: Int
        /// SHA-256 of info ‖ payload, or the AEAD tag of a sealed chunk: what the stream digest chains.
        let digest: [UInt8]
    }

    private let slots: [UnsafeMutableRawBufferPointer]
    // Created at 0 and signalled twice: libdispatch traps when a semaphore is disposed of with a value
    // below the one it was created with, which a pipeline stopped early would do.
    private let free = DispatchSemaphore(value: 0)
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var produced: [Result<Chunk, TransferError>] = []
    private var cancelled = false
    private var running = false
    private let producer: StreamProducer
    private let plan: ChunkPlan
    private let range: Range<Int>
    private let transferID: [UInt8]
    private let cipher: ContentCipher?

    /// Starts producing chunks `range` (0-based plan positions) of `plan` from `producer`, which must
    /// already be positioned at the first of them. The producer is used by the pipeline thread only.
    /// With `cipher`, each chunk's info ‖ payload is sealed in place (protocol version 2).
    init(producer: StreamProducer, plan: ChunkPlan, range: Range<Int>, transferID: [UInt8], cipher: ContentCipher? = nil) {
        self.cipher = cipher
        self.producer = producer
        self.plan = plan
        self.range = range
        self.transferID = transferID
        let maxChunk = plan.chunks.map(\.length).max() ?? 0
        let maxInfo = plan.chunks.map(\.info.count).max() ?? 0
        slots = (0..<2).map { _ in
            UnsafeMutableRawBufferPointer.allocate(byteCount: ChunkHeader.size + maxInfo + maxChunk, alignment: 4096)
        }
        free.signal()
        free.signal()
        guard !range.isEmpty else { return }
        running = true
        let thread = Thread { [self] in
            produce()
            finished.signal()
        }
        thread.name = "ferry-transfer-producer"
        thread.start()
    }

    deinit {
        cancel()
        for slot in slots { slot.deallocate() }
    }

    /// The next chunk, in order; blocks until it is produced. Rethrows the producer's error.
    func next() throws(TransferError) -> Chunk {
        ready.wait()
        let result = lock.withLock { produced.removeFirst() }
        return try result.get()
    }

    /// Hands the oldest chunk's buffer back to the producer.
    func release() { free.signal() }

    /// Stops the producer thread and waits for it to exit.
    func cancel() {
        let wasRunning = lock.withLock { () -> Bool in
            cancelled = true
            defer { running = false }
            return running
        }
        guard wasRunning else { return }
        free.signal()
        free.signal()
        finished.wait()
    }

    private func produce() {
        for k in range {
            free.wait()
            if lock.withLock({ cancelled }) { return }
            let slot = slots[k % 2]
            let spec = plan.chunks[k]
            do throws(TransferError) {
                let bodyStart = ChunkHeader.size
                spec.info.withUnsafeBytes { info in
                    UnsafeMutableRawBufferPointer(rebasing: slot[bodyStart..<(bodyStart + info.count)]).copyMemory(from: info)
                }
                let payloadStart = bodyStart + spec.info.count
                let end = payloadStart + spec.length
                try producer.read(exactly: UnsafeMutableRawBufferPointer(rebasing: slot[payloadStart..<end]))
                let body = UnsafeMutableRawBufferPointer(rebasing: slot[bodyStart..<end])
                let digest: [UInt8]
                if let cipher {
                    do {
                        digest = try cipher.seal(body, index: k + 1, offset: spec.offset, payloadLength: spec.length,
                                                 infoLength: spec.info.count)
                    } catch {
                        throw TransferError.io(path: "chunk \(k + 1)", operation: "seal", detail: String(describing: error))
                    }
                } else {
                    digest = ChunkDigest.compute(UnsafeRawBufferPointer(body))
                }
                ChunkHeader(transferID: transferID, index: UInt64(k + 1), offset: UInt64(spec.offset),
                            payloadLength: UInt64(spec.length), infoLength: UInt32(spec.info.count), digest: digest)
                    .write(into: slot, magic: cipher == nil ? ChunkHeader.magic : ChunkHeader.sealedMagic)
                let chunk = Chunk(index: k + 1, file: UnsafeRawBufferPointer(rebasing: slot[0..<end]),
                                  payloadLength: spec.length, digest: digest)
                lock.withLock { produced.append(.success(chunk)) }
                ready.signal()
            } catch {
                lock.withLock { produced.append(.failure(error)) }
                ready.signal()
                return
            }
        }
    }
}
