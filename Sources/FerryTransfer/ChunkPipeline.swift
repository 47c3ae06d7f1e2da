import FerrySupport
import Foundation

/// Produces chunk files on a background thread, one chunk ahead of the thread that publishes them:
/// it reads chunk k + 1, hashes or seals it and writes it under a temporary name into every target
/// folder, while the publishing thread waits for the window and renames chunk k into place.
///
/// Memory: one chunk buffer, plus (sealed) the AEAD's output for the chunk being written, all used and
/// freed by the producer thread alone; at most two chunks are staged on disk ahead of the window.
final class ChunkPipeline: @unchecked Sendable {
    /// A folder chunks are staged in: a receiver's transfer folder, or a broadcast's shared area.
    struct Target: Equatable {
        let dir: String
        /// Shared areas: the chunk is fsynced before it is published (several receivers read it and
        /// none may delete it, so the torn-chunk rule cannot apply).
        let durable: Bool
        /// A receiver's own folder: the transfer's window, which names the spares its receiver keeps
        /// (consumed chunks this sender overwrites, docs/transfer-protocol.md §4a); nil for a shared area.
        var spareWindow: Int? = nil
    }

    /// A chunk staged in every target folder, ready to be published.
    struct Chunk {
        /// 1-based chunk index.
        let index: Int
        /// Payload bytes.
        let payloadLength: Int
        /// Bytes of the chunk file.
        let fileSize: Int
        /// SHA-256 of info ‖ payload, or the AEAD tag of a sealed chunk: what the stream digest chains.
        let digest: [UInt8]
        /// The chunk written under a temporary name in each target's folder, in the order of the
        /// targets; a writer not committed removes its file when the chunk is dropped.
        let staged: [AtomicFileWriter]
    }

    /// The chunk file being made: header, then info ‖ payload (sealed: the plaintext body, written
    /// from the AEAD's output instead). Producer thread only.
    private let buffer: UnsafeMutableRawBufferPointer
    let targets: [Target]
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
    /// Seals chunks, and frees their sealed bodies, away from the producer's other allocations.
    private let cipherThread: CipherThread?

    /// Starts producing chunks `range` (0-based plan positions) of `plan` from `producer`, which must
    /// already be positioned at the first of them, staging each in every target folder. The producer is
    /// used by the pipeline thread only. With `cipher`, each chunk's info ‖ payload is sealed
    /// (protocol version 2).
    init(producer: StreamProducer, plan: ChunkPlan, range: Range<Int>, transferID: [UInt8], cipher: ContentCipher? = nil,
         targets: [Target]) {
        self.targets = targets
        cipherThread = cipher == nil ? nil : CipherThread(name: "ferry-transfer-seal")
        self.cipher = cipher
        self.producer = producer
        self.plan = plan
        self.range = range
        self.transferID = transferID
        let maxChunk = plan.chunks.map(\.length).max() ?? 0
        let maxInfo = plan.chunks.map(\.info.count).max() ?? 0
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ChunkHeader.size + maxInfo + maxChunk, alignment: 4096)
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
        buffer.deallocate()
    }

    /// The next chunk, in order; blocks until it is produced. Rethrows the producer's error.
    func next() throws(TransferError) -> Chunk {
        ready.wait()
        let result = lock.withLock { produced.removeFirst() }
        return try result.get()
    }

    /// Lets the producer stage one more chunk (after the oldest was published).
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
            let spec = plan.chunks[k]
            do throws(TransferError) {
                let body = UnsafeMutableRawBufferPointer(rebasing: buffer[ChunkHeader.size..<(ChunkHeader.size + spec.info.count + spec.length)])
                spec.info.withUnsafeBytes { info in
                    UnsafeMutableRawBufferPointer(rebasing: body[0..<info.count]).copyMemory(from: info)
                }
                try producer.read(exactly: UnsafeMutableRawBufferPointer(rebasing: body[spec.info.count...]))
                let digest: [UInt8]
                var sealed: SealedChunkBody?
                defer { cipherThread?.release(&sealed) }
                if let cipher, let cipherThread {
                    do {
                        sealed = try cipherThread.perform {
                            try cipher.seal(UnsafeRawBufferPointer(body), index: k + 1, offset: spec.offset,
                                            payloadLength: spec.length, infoLength: spec.info.count)
                        }
                    } catch {
                        throw TransferError.io(path: "chunk \(k + 1)", operation: "seal", detail: String(describing: error))
                    }
                    digest = sealed!.tag
                } else {
                    digest = ChunkDigest.compute(UnsafeRawBufferPointer(body))
                }
                ChunkHeader(transferID: transferID, index: UInt64(k + 1), offset: UInt64(spec.offset),
                            payloadLength: UInt64(spec.length), infoLength: UInt32(spec.info.count), digest: digest)
                    .write(into: buffer, magic: cipher == nil ? ChunkHeader.magic : ChunkHeader.sealedMagic)
                let head = UnsafeRawBufferPointer(rebasing: buffer[0..<(sealed == nil ? ChunkHeader.size + body.count : ChunkHeader.size)])
                let name = TransferLayout.chunkName(k + 1)
                var staged: [AtomicFileWriter] = []
                for target in targets {
                    let path = FileSystem.join(target.dir, name)
                    do {
                        // Without writeback started: a chunk deleted by its receiver before the page cache
                        // flushes it never reaches the disk.
                        let spare = target.spareWindow.map { FileSystem.join(target.dir, TransferLayout.spareName(forChunk: k + 1, window: $0)) }
                        let writer = try spare.flatMap { AtomicFileWriter(destination: path, reusing: $0) }
                            ?? AtomicFileWriter(destination: path, startsWriteback: target.durable)
                        try writer.write(head)
                        try sealed?.withCiphertext { try writer.write($0) }
                        if target.durable { try writer.sync() }
                        staged.append(writer)
                    } catch {
                        throw TransferError.io(path: path, operation: "stage chunk", detail: String(describing: error))
                    }
                }
                let chunk = Chunk(index: k + 1, payloadLength: spec.length, fileSize: ChunkHeader.size + body.count,
                                  digest: digest, staged: staged)
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
