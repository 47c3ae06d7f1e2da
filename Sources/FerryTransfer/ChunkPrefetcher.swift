import FerrySupport
import Dispatch
import Foundation
/// A chunk file read into memory and hashed: what a receiver can do before it knows the stream
/// position the chunk must continue (the checks that need it run after).
enum LoadedChunk {
    /// Not there (yet), or vanished while being read.
    case absent
    /// Not a readable regular file of an acceptable size: the reason the transfer is refused.
    case refused(String)
    /// Shorter than a chunk header: torn by a crash (the reason, for the torn-chunk rule).
    case damaged(String)
    /// The chunk's bytes (valid until the next load into the same slot) and the SHA-256 of
    /// everything after the header (the chunk digest, when the header is honest).
    case loaded(file: UnsafeRawBufferPointer, bodyDigest: [UInt8])

    var isAbsent: Bool {
        if case .absent = self { return true }
        return false
    }
}

/// Reads and hashes chunk k + 1 on a second thread while the receiver writes chunk k. Hashing is about
/// half of a receiver's work: on a 2-core host a receiver alone drains 1 GiB in 1.3–1.6 s instead of
/// 2.1–2.7 s (docs/benchmarks.md). Unsealed chunks are used in place, so two buffers take turns. A
/// sealed chunk is copied out of its buffer before it is opened: one buffer, and the receiver starts
/// the next read once the copy is made. All methods are called from the receiving thread.
final class ChunkPrefetcher: @unchecked Sendable {
    /// One chunk buffer: an anonymous mapping of the largest acceptable chunk file, reserved once.
    /// Only the pages a chunk touches count; malloc would keep buffers freed by the second thread
    /// in that thread's arena and grow the resident set with every larger chunk.
    private final class Slot: @unchecked Sendable {
        let buffer: UnsafeMutableRawBufferPointer
        var result: LoadedChunk = .absent

        init?(capacity: Int) {
            // mmap rather than allocate: a hostile manifest may ask for 1 GiB chunks, and a failed
            // reservation must refuse the transfer, not trap.
            guard let base = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  base != MAP_FAILED else { return nil }
            buffer = UnsafeMutableRawBufferPointer(start: base, count: capacity)
        }

        deinit { munmap(buffer.baseAddress, buffer.count) }
    }

    private let dir: String
    private let maxFileSize: Int
    /// Whether the body is hashed (version 1); sealed chunks are checked by their AEAD tag instead.
    private let hashBody: Bool
    private let slots: [Slot]
    private var next = 0
    private let queue = DispatchQueue(label: "ferry-receive-prefetch")
    private let done = DispatchSemaphore(value: 0)
    /// The chunk index being read in the background (in `slots[next]`), if any.
    private var inFlight: Int?

    /// - Parameters:
    ///   - maxFileSize: larger chunk files are refused without being read.
    ///   - buffers: 2 when the caller uses a chunk in place while the next one is read; 1 when it copies
    ///     each chunk out before it calls ``prefetch(_:)``.
    init(dir: String, maxFileSize: Int, hashBody: Bool = true, buffers: Int = 2) throws(TransferError) {
        self.hashBody = hashBody
        self.dir = dir
        self.maxFileSize = maxFileSize
        var slots: [Slot] = []
        for _ in 0..<max(1, min(buffers, 2)) {
            guard let slot = Slot(capacity: maxFileSize) else {
                throw TransferError.posix(dir, "reserve \(maxFileSize) bytes for chunk buffers")
            }
            slots.append(slot)
        }
        self.slots = slots
    }

    deinit { cancel() }

    /// Chunk `index`: the background read when one was started for it (a background read that found
    /// nothing is tried again now), else read here.
    func load(_ index: Int) -> LoadedChunk {
        if let pending = inFlight {
            done.wait()
            inFlight = nil
            if pending == index, !slots[next].result.isAbsent { return slots[next].result }
        }
        return readNow(index)
    }

    /// Chunk `index` read again now, after any background read ends (into the buffer that read used).
    func reload(_ index: Int) -> LoadedChunk {
        cancel()
        return readNow(index)
    }

    private func readNow(_ index: Int) -> LoadedChunk {
        let slot = slots[next]
        slot.result = Self.readChunk(path: FileSystem.join(dir, TransferLayout.chunkName(index)),
                                     maxFileSize: maxFileSize, hashBody: hashBody, into: slot)
        return slot.result
    }

    /// Starts reading chunk `index` in the background into the other buffer, where there are two (the
    /// buffer returned by the last ``load(_:)`` stays valid meanwhile), else into the only one.
    func prefetch(_ index: Int) {
        precondition(inFlight == nil)
        next = (next + 1) % slots.count
        let slot = slots[next]
        let path = FileSystem.join(dir, TransferLayout.chunkName(index))
        let limit = maxFileSize
        let hash = hashBody
        inFlight = index
        queue.async { [done] in
            slot.result = Self.readChunk(path: path, maxFileSize: limit, hashBody: hash, into: slot)
            done.signal()
        }
    }

    /// Waits for a background read to end (before the buffers may go).
    func cancel() {
        if inFlight != nil {
            done.wait()
            inFlight = nil
        }
    }

    private static func readChunk(path: String, maxFileSize: Int, hashBody: Bool, into slot: Slot) -> LoadedChunk {
        let name = (path as NSString).lastPathComponent
        let cfd = open(path, O_RDONLY | O_CLOEXEC)
        if cfd < 0 {
            if FileSystem.isAbsence(Syscall.lastError) { return .absent }
            return .refused("\(name) cannot be opened: \(String(cString: strerror(errno)))")
        }
        defer { close(cfd) }
        var st = stat()
        guard fstat(cfd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return .refused("\(name) is not a regular file") }
        let size = Int(st.st_size)
        guard size >= ChunkHeader.size else {
            return .damaged("\(name) is truncated (\(size) bytes, less than a chunk header; torn by a crash of the host that held it)")
        }
        guard size <= maxFileSize else { return .refused("\(name) is larger than the manifest's chunk size allows") }
        var got = 0
        while got < size {
            let n = Syscall.retryingInterrupts { read(cfd, slot.buffer.baseAddress! + got, size - got) }
            if n < 0, FileSystem.isAbsence(Syscall.lastError) { return .absent }
            guard n >= 0 else { return .refused("\(name) cannot be read: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            got += n
        }
        let file = UnsafeRawBufferPointer(rebasing: slot.buffer[0..<got])
        let body = got >= ChunkHeader.size ? UnsafeRawBufferPointer(rebasing: file[ChunkHeader.size...]) : UnsafeRawBufferPointer(start: nil, count: 0)
        return .loaded(file: file, bodyDigest: hashBody ? ChunkDigest.compute(body) : [])
    }
}
