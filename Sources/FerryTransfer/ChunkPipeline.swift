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
    /// Sealed transfers: chunk k is written into its target folders here while the producer reads
    /// chunk k + 1 (the two page-cache copies overlap); chunk k + 1 is sealed once chunk k is written.
    private let stageQueue = DispatchQueue(label: "ferry-transfer-stage")
    private let staging = DispatchGroup()
    /// Set by a failed staging: the producer stops.
    private var stageFailed = false

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
        // Nothing may touch `buffer` after the producer thread ends (deinit frees it).
        defer { staging.wait() }
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
                guard let cipher, let cipherThread else {
                    let digest = ChunkDigest.compute(UnsafeRawBufferPointer(body))
                    writeHeader(k, spec: spec, digest: digest)
                    let chunk = try stage(k, head: UnsafeRawBufferPointer(rebasing: buffer[0..<(ChunkHeader.size + body.count)]),
                                          sealed: nil, payloadLength: spec.length, digest: digest)
                    lock.withLock { produced.append(.success(chunk)) }
                    ready.signal()
                    continue
                }
                // The previous chunk is written and its sealed body freed: one sealed body at a time.
                staging.wait()
                if lock.withLock({ stageFailed }) { return }
                let holder = SealedHolder()
                do {
                    holder.body = try cipherThread.perform {
                        try cipher.seal(UnsafeRawBufferPointer(body), index: k + 1, offset: spec.offset,
                                        payloadLength: spec.length, infoLength: spec.info.count)
                    }
                } catch {
                    throw TransferError.io(path: "chunk \(k + 1)", operation: "seal", detail: String(describing: error))
                }
                let digest = holder.body!.tag
                writeHeader(k, spec: spec, digest: digest)
                stageQueue.async(group: staging) { [self] in
                    let result = Result { () throws(TransferError) -> Chunk in
                        defer { cipherThread.release(&holder.body) }
                        // The header stays in `buffer` until the next chunk is sealed, after this block.
                        return try stage(k, head: UnsafeRawBufferPointer(rebasing: buffer[0..<ChunkHeader.size]), sealed: holder.body,
                                         payloadLength: spec.length, digest: digest)
                    }
                    lock.withLock {
                        produced.append(result)
                        if case .failure = result { stageFailed = true }
                    }
                    ready.signal()
                }
            } catch {
                staging.wait()
                lock.withLock { produced.append(.failure(error)) }
                ready.signal()
                return
            }
        }
    }

    private func writeHeader(_ k: Int, spec: ChunkSpec, digest: [UInt8]) {
        ChunkHeader(transferID: transferID, index: UInt64(k + 1), offset: UInt64(spec.offset),
                    payloadLength: UInt64(spec.length), infoLength: UInt32(spec.info.count), digest: digest)
            .write(into: buffer, magic: cipher == nil ? ChunkHeader.magic : ChunkHeader.sealedMagic)
    }

    /// Writes chunk k (`head`, then the sealed body if any) under a temporary name into every target
    /// folder, overwriting a spare where there is one.
    private func stage(_ k: Int, head: UnsafeRawBufferPointer, sealed: SealedChunkBody?, payloadLength: Int,
                       digest: [UInt8]) throws(TransferError) -> Chunk {
        let name = TransferLayout.chunkName(k + 1)
        var staged: [AtomicFileWriter] = []
        let spec = plan.chunks[k]
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
        return Chunk(index: k + 1, payloadLength: payloadLength, fileSize: ChunkHeader.size + spec.info.count + spec.length,
                     digest: digest, staged: staged)
    }
}

/// A sealed body handed to the staging queue, and freed from there on the cipher thread.
private final class SealedHolder: @unchecked Sendable {
    var body: SealedChunkBody?
}
