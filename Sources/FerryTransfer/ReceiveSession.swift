import Crypto
import FerryQuant
import FerrySupport
import Foundation
/// Why a transfer is refused; becomes the `failed` record's reason.
struct Refusal: Error { var reason: String }

/// A chunk file that looks torn by a crash of the host that held it (empty, cut short, or with a block
/// of zeros where sealed data cannot have one): deleted, and published again by the sender.
struct DamagedChunk: Error { var reason: String }

/// The receiving side of one transfer: verifies chunks in order, appends them to the partial stream
/// file in the output folder (feeding the filter sink when the transfer is filtered), acknowledges,
/// and commits the output once the final record matches.
///
/// Durability: a chunk is acknowledged once its bytes are written (the page cache survives a killed
/// process) and their writeback has started. One ack covers up to half the sender's window of chunks
/// (fewer renames on the share); a consumed chunk is deleted only once an ack covering it is in place.
/// The partial output is fsynced at checkpoints (every ``TransferOptions/checkpointInterval`` bytes)
/// and before the commit; each ack records the last fsynced point and the host's boot id, so a receiver
/// restarted after a host crash resumes from there.
final class ReceiveSession {
    let id: String
    let dir: String
    /// Where the chunks are read from: `dir`, or a broadcast's shared area (whose chunks the sender
    /// deletes once every recipient has acknowledged them).
    let chunkDirectory: String
    let manifest: TransferManifest
    let manifestBytes: [UInt8]
    let outputPath: String
    let partialPath: String
    private(set) var consumed: Int
    private(set) var bytes: Int64
    private var chain: DigestChain
    /// The last point at which the partial output was fsynced.
    private var durable: TransferAckPoint
    /// Stream bytes between two fsyncs of the partial output.
    private let checkpointInterval: Int64
    private var fd: Int32
    private var sink: ByteSink?
    private let prefetcher: ChunkPrefetcher
    /// Container mode: the tensors completed by the last consumed chunk.
    private(set) var lastCompletedTensors: [String] = []
    /// The output was already published by an earlier run that died before its final ack.
    private var published = false
    /// The chunk plan the chunks must follow.
    private var expected: ExpectedChunks
    /// Unfiltered transfers whose manifest gives `source.sha256`: the SHA-256 of the stream so far.
    private var sourceHasher: SHA256?
    /// Sealed transfers (version 2): opens each chunk.
    private let cipher: ContentCipher?
    /// Opens sealed chunks, and frees their buffers, away from the receiving thread's other allocations.
    private let cipherThread: CipherThread?
    /// Chunks consumed and covered by the ack on disk (the ones after it, up to `consumed`, wait for the
    /// next ack before they are deleted or kept as spares).
    private(set) var acknowledged: Int
    /// An ack is written after this many consumed chunks (and whenever the next chunk is not there yet).
    private let ackEvery: Int
    /// Starts the output's writeback, chunk by chunk, in order; drained before the output is fsynced or
    /// closed.
    private let writeback = DispatchQueue(label: "ferry-receive-writeback")
    /// How many times each chunk index arrived damaged (torn-chunk rule).
    private var damageCount: [Int: Int] = [:]
    /// Damaged chunks deleted so that the sender publishes them again.
    var damagedChunks: Int { damageCount.values.reduce(0, +) }
    /// A chunk that arrives damaged this many times refuses the transfer.
    static let damageLimit = 3
    /// Sealed transfers: the position, among the receiver's decryption keys (current, then previous),
    /// of the key whose wrapped content key opened.
    private(set) var decryptionKeyUsed: Int?

    /// Opens (or re-opens after a restart) the session of transfer folder `dir`.
    init(id: String, dir: String, manifestBytes: [UInt8], manifest: TransferManifest,
         outputDirectory: String, trustedKeys: [TransferPublicKey], checkpointInterval: Int64,
         decryptionKeys: [TransferDecryptionKey], acceptUnencrypted: Bool, chunkDirectory: String? = nil) throws {
        self.id = id
        self.chunkDirectory = chunkDirectory ?? dir
        self.checkpointInterval = checkpointInterval
        self.dir = dir
        self.manifest = manifest
        self.manifestBytes = manifestBytes
        switch manifest.protocolVersion {
        case TransferManifest.currentVersion:
            guard acceptUnencrypted else {
                throw Refusal(reason: "the transfer is not encrypted (protocol version 1, encryption none) and this receiver accepts sealed transfers only; receive with --encryption none to allow unencrypted transfers for debugging")
            }
            guard manifest.encryption == nil else {
                throw Refusal(reason: "a version 1 manifest must not carry an encryption object")
            }
            cipher = nil
            cipherThread = nil
        case TransferManifest.sealedVersion:
            guard let encryption = manifest.encryption else {
                throw Refusal(reason: "a version 2 manifest has no encryption object")
            }
            guard !decryptionKeys.isEmpty else {
                throw Refusal(reason: "the transfer is sealed but this receiver has no encryption key; give it with --key WORKSPACE_OR_KEY")
            }
            guard manifest.transferId == id, let rawID = TransferID(hex: id)?.bytes else {
                throw Refusal(reason: "manifest names transfer \(manifest.transferId) but sits in folder \(id) (foreign manifest)")
            }
            switch KeyWrap.unwrap(encryption, with: decryptionKeys, transferID: id) {
            case .failure(let refusal): throw refusal
            case .success(let opened):
                decryptionKeyUsed = opened.used
                cipher = ContentCipher(key: opened.key, aead: encryption.aead, transferID: rawID, chunkCount: manifest.chunkCount)
                cipherThread = CipherThread(name: "ferry-transfer-open")
            }
        default:
            throw Refusal(reason: "protocol version \(manifest.protocolVersion) is not supported (this receiver speaks 1 and 2)")
        }
        guard manifest.transferId == id else {
            throw Refusal(reason: "manifest names transfer \(manifest.transferId) but sits in folder \(id) (foreign manifest)")
        }
        guard manifest.chunkSize >= 1, manifest.chunkSize <= 1 << 30, manifest.streamSize >= 0, manifest.chunkCount >= 0 else {
            throw Refusal(reason: "manifest has impossible sizes")
        }
        if !trustedKeys.isEmpty {
            guard let key = manifest.signerPublicKey else {
                throw Refusal(reason: "transfer is not signed and this receiver only accepts signed transfers (--trust)")
            }
            guard trustedKeys.contains(where: { $0.base64 == key }) else {
                throw Refusal(reason: "transfer is signed by a key this receiver does not trust (\(key))")
            }
        }
        for f in manifest.filters {
            guard let q = f.quantize, QuantFormat(rawValue: q) != nil else {
                throw Refusal(reason: "unknown filter \(f) in the manifest")
            }
        }
        guard manifest.filters.count <= 1 else {
            throw Refusal(reason: "filter chains of \(manifest.filters.count) steps are not supported")
        }
        let name = manifest.source.name
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), !name.contains("\0"), name.utf8.count <= 255 else {
            throw Refusal(reason: "unsafe output name '\(name)' in the manifest")
        }
        if manifest.filters.isEmpty, manifest.source.size != manifest.streamSize {
            throw Refusal(reason: "manifest has impossible sizes: source.size \(manifest.source.size) differs from streamSize \(manifest.streamSize) in an unfiltered transfer")
        }
        if let digest = manifest.source.sha256 {
            guard digest.utf8.count == 64, Hex.decode(digest) != nil else {
                throw Refusal(reason: "source.sha256 '\(digest)' in the manifest is not 64 hexadecimal digits")
            }
            if manifest.filters.isEmpty { sourceHasher = SHA256() }
        }
        expected = try ExpectedChunks(manifest: manifest)
        outputPath = FileSystem.join(outputDirectory, name)
        partialPath = FileSystem.join(outputDirectory, TransferLayout.partialName(id))

        let ackBytes = try TransferError.io({ try FileSystem.readIfPresent(FileSystem.join(dir, TransferLayout.ack)) })
        let ack = ackBytes.flatMap(TransferAck.decode)
        consumed = ack?.consumed ?? 0
        bytes = ack?.bytes ?? 0
        chain = ack.flatMap { DigestChain(hex: $0.chain) } ?? DigestChain()
        // An ack that no longer decodes (a host crash under a file system that does not order the
        // rename after the data, or someone's edit) restarts the transfer from the beginning.
        var rewound = ackBytes != nil && ack == nil
        if let ack, let point = ack.durable, ack.boot != HostDurability.bootID, point.consumed < ack.consumed {
            // The host restarted since this ack: bytes written after the last fsync may be lost.
            guard point.consumed >= 0, point.bytes >= 0, point.bytes <= ack.bytes, let c = DigestChain(hex: point.chain) else {
                throw Refusal(reason: "the ack's durable point is inconsistent")
            }
            consumed = point.consumed
            bytes = point.bytes
            chain = c
            rewound = true
        }
        // An ack without a durable point comes from a receiver that fsynced every chunk.
        acknowledged = consumed
        ackEvery = max(1, manifest.window / 2)
        durable = ack?.durable ?? TransferAckPoint(consumed: consumed, bytes: bytes, chain: chain.hex)
        if durable.consumed > consumed { durable = TransferAckPoint(consumed: consumed, bytes: bytes, chain: chain.hex) }
        prefetcher = try ChunkPrefetcher(dir: self.chunkDirectory, maxFileSize: ChunkHeader.size + (1 << 20) + manifest.chunkSize,
                                         hashBody: cipher == nil, buffers: cipher == nil ? 2 : 1)
        fd = open(partialPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TransferError.posix(partialPath, "open the partial output") }
        let have = FileSystem.info(partialPath)?.size ?? 0
        if have < bytes {
            // Killed after publishing the output but before acknowledging completion: the partial is
            // gone (renamed, or removed after the filter sink published) and the output is there.
            if have == 0, consumed == manifest.chunkCount, FileSystem.exists(outputPath) {
                published = true
                close(fd)
                fd = -1
                FileSystem.remove(partialPath)
                return
            }
            throw Refusal(reason: "the partial output \(partialPath) holds \(have) bytes but \(bytes) were acknowledged (it was removed or truncated)")
        }
        if ReceivedLedger.contains(id, in: outputDirectory) {
            throw Refusal(reason: "transfer \(id) was already received and published here (replay of an old transfer)")
        }
        if ftruncate(fd, off_t(bytes)) != 0 { throw TransferError.posix(partialPath, "truncate") }
        reserveRestOfOutput()
        try expected.resume(consumed: consumed, bytes: bytes) { count in try readPartial(count) }
        if sourceHasher != nil { try replay { sourceHasher?.update(bufferPointer: $0) } }
        // Tell the sender where to resume from (it restarts its stream when the ack moves back).
        if rewound { try writeAck(state: "receiving", durably: true) }
        if !manifest.filters.isEmpty {
            let s = try FilterBridge.restoringSink(destination: outputPath, filters: manifest.filters)
            sink = s
            try replay { piece in
                do { try s.write(piece) } catch {
                    throw Refusal(reason: "the filtered stream cannot be restored: \(error)")
                }
            }
        }
    }

    deinit {
        prefetcher.cancel()
        writeback.sync {}
        if fd >= 0 { close(fd) }
        sink?.cancel()
    }

    /// Passes the acknowledged prefix of the partial stream, in slices, to `body` (after a restart: to
    /// rebuild the filter sink and the source digest).
    private func replay(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard bytes > 0 else { return }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 64)
        defer { scratch.deallocate() }
        var off: Int64 = 0
        while off < bytes {
            let n = Syscall.retryingInterrupts { pread(fd, scratch.baseAddress, Int(min(Int64(scratch.count), bytes - off)), off_t(off)) }
            guard n > 0 else { throw TransferError.posix(partialPath, "read the partial output") }
            try body(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            off += Int64(n)
        }
    }

    /// The first `count` bytes of the partial stream (`count` at most the acknowledged bytes).
    private func readPartial(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var off = 0
        while off < count {
            let n = out.withUnsafeMutableBytes { raw in
                Syscall.retryingInterrupts { pread(fd, raw.baseAddress! + off, count - off, off_t(off)) }
            }
            guard n > 0 else { throw TransferError.posix(partialPath, "read the partial output") }
            off += n
        }
        return out
    }

    var isFinished: Bool { consumed >= manifest.chunkCount }

    /// Consumes the next chunk when it is there. Returns false when it is not (yet), and after deleting a
    /// damaged chunk (the sender publishes it again).
    func consumeNext(options: TransferOptions) throws -> Bool {
        let index = consumed + 1
        guard index <= manifest.chunkCount else { return false }
        let name = TransferLayout.chunkName(index)
        let file: UnsafeRawBufferPointer
        let digest: [UInt8]
        switch prefetcher.load(index) {
        case .absent: return false
        case .refused(let reason): throw Refusal(reason: reason)
        case .damaged(let reason): return try setAside(damaged: DamagedChunk(reason: reason), index: index)
        case .loaded(let f, let d): (file, digest) = (f, d)
        }
        // Unsealed chunks are used in their buffer: the next one is read into the other buffer from now
        // on. A sealed chunk is copied out of the only buffer first (`released`).
        let next = index < manifest.chunkCount ? index + 1 : nil
        if cipher == nil, let next { prefetcher.prefetch(next) }
        do {
            try verify(file, name: name, index: index, bodyDigest: digest, released: { if let next { self.prefetcher.prefetch(next) } }) { info, payload in
                try expected.accept(index: index, name: name, offset: bytes, payload: payload, info: info)
                lastCompletedTensors = info.isEmpty ? []
                    : (ChunkInfo.decode(Array(info))?.tensors ?? []).filter { $0.end == $0.size }.map(\.name)
                try append(payload)
            }
        } catch let damage as DamagedChunk {
            return try setAside(damaged: damage, index: index)
        }
        return true
    }

    /// The torn-chunk rule: a chunk of this inbox that looks torn is deleted after an ack up to the chunk
    /// before it, so that the sender, finding it gone and the ack unchanged, publishes it again. A
    /// chunk that comes damaged ``damageLimit`` times, or a damaged chunk of a shared area (fsynced by
    /// the sender, and not this receiver's to delete), refuses the transfer.
    private func setAside(damaged: DamagedChunk, index: Int) throws -> Bool {
        let path = FileSystem.join(chunkDirectory, TransferLayout.chunkName(index))
        guard ownsChunks else { throw Refusal(reason: damaged.reason) }
        let seen = damageCount[index, default: 0] + 1
        guard seen < Self.damageLimit else {
            throw Refusal(reason: "\(damaged.reason); it arrived damaged \(seen) times in a row (the share keeps corrupting it, or someone alters it)")
        }
        damageCount[index] = seen
        try acknowledge()
        FileSystem.remove(path)
        return false
    }

    /// Writes the ack when chunks were consumed since the last one (before the receiver waits for more).
    func acknowledge() throws {
        if consumed > acknowledged { try writeAck(state: "receiving", durably: false) }
    }

    /// Checks chunk `index` and passes its (opened) info and payload to `use`. A sealed chunk calls
    /// `released` once `file` is no longer read.
    private func verify(_ file: UnsafeRawBufferPointer, name: String, index: Int, bodyDigest: [UInt8], released: () -> Void,
                        _ use: (_ info: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer) throws -> Void) throws {
        guard let h = ChunkHeader.parse(file, magic: cipher == nil ? ChunkHeader.magic : ChunkHeader.sealedMagic) else {
            if file[0..<ChunkHeader.size].allSatisfy({ $0 == 0 }) {
                throw DamagedChunk(reason: "\(name) has a header of zeros (torn by a crash of the host that held it)")
            }
            if cipher != nil, ChunkHeader.parse(file) != nil {
                throw Refusal(reason: "\(name) is an unencrypted (version 1) chunk in a sealed transfer (downgrade refused)")
            }
            throw Refusal(reason: "\(name) is not a ferry chunk (bad header)")
        }
        guard h.transferID == TransferID(hex: id)?.bytes else {
            throw Refusal(reason: "\(name) belongs to transfer \(Hex.encode(h.transferID)), not \(id) (foreign chunk)")
        }
        guard h.index == UInt64(index) else {
            throw Refusal(reason: "\(name) carries chunk index \(h.index) (out of order, duplicated or renamed chunk)")
        }
        guard h.offset == UInt64(bytes) else {
            throw Refusal(reason: "\(name) starts at stream offset \(h.offset) but \(bytes) bytes were received (out of order or duplicated data)")
        }
        let body = Int(h.infoLength) + Int(clamping: h.payloadLength)
        if h.infoLength <= 1 << 20, h.payloadLength <= UInt64(manifest.chunkSize), h.payloadLength > 0,
           file.count < ChunkHeader.size + body {
            throw DamagedChunk(reason: "\(name) is truncated: \(file.count) bytes for a declared \(h.payloadLength)-byte payload (torn by a crash of the host that held it)")
        }
        guard h.infoLength <= 1 << 20, h.payloadLength <= UInt64(manifest.chunkSize), ChunkHeader.size + body == file.count,
              h.payloadLength > 0 else {
            throw Refusal(reason: "\(name) is truncated or padded: \(file.count) bytes for a declared \(h.payloadLength)-byte payload")
        }
        guard bytes + Int64(h.payloadLength) <= manifest.streamSize else {
            throw Refusal(reason: "\(name) goes past the stream size announced in the manifest")
        }
        let infoLength = Int(h.infoLength)
        guard let cipher else {
            guard bodyDigest == h.digest else {
                try Self.checkTorn(file, name: name)
                throw Refusal(reason: "\(name) is corrupt: its SHA-256 does not match (tampered or damaged)")
            }
            let infoEnd = ChunkHeader.size + infoLength
            return try chained(h.digest) {
                try use(UnsafeRawBufferPointer(rebasing: file[ChunkHeader.size..<infoEnd]), UnsafeRawBufferPointer(rebasing: file[infoEnd...]))
            }
        }
        let tag = Array(h.digest[0..<ContentCipher.tagSize])
        guard h.digest[ContentCipher.tagSize...].allSatisfy({ $0 == 0 }) else {
            throw Refusal(reason: "\(name) has a non-zero reserved field after its AEAD tag")
        }
        // The plaintext is written from the AEAD's own buffer: no copy back into the chunk buffer. Both
        // buffers (the sealed box's copy of the chunk, the plaintext) are made and freed on the cipher thread.
        guard let cipherThread else { throw Refusal(reason: "\(name): no cipher thread") }
        var box: ContentCipher.Box?
        var plain: Data?
        defer {
            cipherThread.release(&plain)
            cipherThread.release(&box)
        }
        do {
            box = try cipherThread.perform { try cipher.box(UnsafeRawBufferPointer(rebasing: file[ChunkHeader.size...]), tag: tag, index: index) }
        } catch {
            throw Refusal(reason: "\(name) cannot be read as a sealed chunk: \(error)")
        }
        released()
        let offset = bytes, payloadLength = Int(h.payloadLength)
        plain = try cipherThread.perform { [box] in cipher.open(box!, index: index, offset: offset, payloadLength: payloadLength, infoLength: infoLength) }
        guard plain != nil else {
            // The buffer holds the next chunk by now: read this one again to tell torn from tampered.
            if case .loaded(let again, _) = prefetcher.reload(index) { try Self.checkTorn(again, name: name) }
            throw Refusal(reason: "\(name) does not open with the transfer's content key (tampered, swapped, replayed from another transfer, or cut short)")
        }
        try chained(tag) {
            try plain!.withUnsafeBytes { opened in
                try use(UnsafeRawBufferPointer(rebasing: opened[0..<infoLength]), UnsafeRawBufferPointer(rebasing: opened[infoLength..<body]))
            }
        }
    }

    /// Runs `body` (which consumes the chunk, and may write the ack) with `digest` chained; takes the
    /// digest back out when it throws, so an ack written after a failed write names the chain of the
    /// chunks really consumed.
    private func chained(_ digest: [UInt8], _ body: () throws -> Void) throws {
        let (before, consumedBefore) = (chain, consumed)
        chain.append(digest)
        do { try body() } catch {
            // Only while the chunk is not counted as consumed (a failed ack after it was keeps both).
            if consumed == consumedBefore { chain = before }
            throw error
        }
    }

    /// Throws ``DamagedChunk`` when a chunk that failed its check holds a 4 KiB block of zeros (at a
    /// multiple of 4 KiB in the file): what a crash leaves where the data had not reached the disk.
    /// Sealed data never has one, and a bit flipped in transit or by hand leaves none.
    private static func checkTorn(_ file: UnsafeRawBufferPointer, name: String) throws {
        let block = 4096
        var start = 0
        while start + block <= file.count {
            if UnsafeRawBufferPointer(rebasing: file[start..<(start + block)]).allSatisfy({ $0 == 0 }) {
                throw DamagedChunk(reason: "\(name) holds 4 KiB of zeros at byte \(start) and fails its check (torn by a crash of the host that held it)")
            }
            start += block
        }
    }

    /// Reserves the partial output's blocks up to the stream's end (after the truncation above, which frees
    /// blocks past the acknowledged bytes), so the writes skip per-page delayed allocation. Only when the
    /// disk has the room and 1 GiB to spare: a reservation that fails half-way keeps what it got, and must
    /// not fill the disk before any chunk arrives (the acks and other programs need space too).
    private func reserveRestOfOutput() {
        let rest = manifest.streamSize - bytes
        guard rest > 0, let free = DiskSpace.available(at: (partialPath as NSString).deletingLastPathComponent),
              free - rest >= 1 << 30 else { return }
        HostDurability.preallocate(fd, offset: bytes, length: rest)
    }

    /// This inbox's chunks are the receiver's to delete (or keep as spares); a broadcast's shared area's
    /// are the sender's.
    private var ownsChunks: Bool { chunkDirectory == dir }

    private func append(_ payload: UnsafeRawBufferPointer) throws {
        var off = 0
        while off < payload.count {
            let n = Syscall.retryingInterrupts {
                pwrite(fd, payload.baseAddress! + off, min(payload.count - off, WriteSlicing.sliceBytes), off_t(bytes + Int64(off)))
            }
            guard n > 0 else { throw TransferError.posix(partialPath, "write the partial output") }
            off += n
        }
        do { try sink?.write(payload) } catch {
            throw Refusal(reason: "the filtered stream cannot be restored: \(error)")
        }
        sourceHasher?.update(bufferPointer: payload)
        // Submitting the writeback builds the disk requests page by page: off the receiving thread.
        let (wfd, offset, length) = (fd, bytes, Int64(payload.count))
        writeback.async { HostDurability.startWriteback(wfd, offset: offset, length: length) }
        consumed += 1
        bytes += Int64(payload.count)
        if bytes - durable.bytes >= checkpointInterval {
            try checkpoint()
        } else if consumed - acknowledged >= ackEvery || isFinished {
            try writeAck(state: "receiving", durably: false)
        }
    }

    /// Fsyncs the partial output and records the point as durable in the ack.
    private func checkpoint() throws {
        writeback.sync {}
        guard fsync(fd) == 0 else { throw TransferError.posix(partialPath, "fsync the partial output") }
        durable = TransferAckPoint(consumed: consumed, bytes: bytes, chain: chain.hex)
        try writeAck(state: "receiving", durably: true)
    }

    /// Replaces the ack. Between checkpoints it is renamed into place without an fsync: after a host
    /// crash an older ack is as good (its durable point is still true).
    func writeAck(state: String, durably: Bool) throws {
        var ack = TransferAck(state: state, transferId: id, consumed: consumed, bytes: bytes, chain: chain.hex,
                              updated: Timestamp.now())
        ack.boot = HostDurability.bootID
        ack.durable = durable
        try TransferError.io({ try FileSystem.write(ack.encoded(), to: FileSystem.join(dir, TransferLayout.ack), durable: durably) })
        let covered = acknowledged + 1
        acknowledged = consumed
        // Consumed chunks become spares the sender overwrites with later chunks: a file whose pages are in
        // the page cache costs no allocation to overwrite, and none to free (docs/transfer-protocol.md §4a).
        // A shared area's chunks are the sender's to delete (the other recipients still need them).
        guard ownsChunks, covered <= consumed else { return }
        for index in covered...consumed {
            let path = FileSystem.join(dir, TransferLayout.chunkName(index))
            if rename(path, FileSystem.join(dir, TransferLayout.spareName(forChunk: index, window: manifest.window))) != 0 {
                FileSystem.remove(path)
            }
        }
    }

    /// Checks the final record and publishes the output. Returns false while the record is not there.
    func commitIfFinal(trustedKeys: [TransferPublicKey]) throws -> Bool {
        guard isFinished else { return false }
        let raw: [UInt8]?
        do { raw = try TransferError.io({ try FileSystem.readIfPresent(FileSystem.join(dir, TransferLayout.final), limit: 64 << 10) }) } catch {
            throw Refusal(reason: "the final record cannot be read: \(error)")
        }
        guard let raw else { return false }
        guard let final = TransferFinalRecord.decode(raw) else { throw Refusal(reason: "the final record is not valid JSON") }
        guard final.chunkCount == manifest.chunkCount, final.totalBytes == bytes, bytes == manifest.streamSize else {
            throw Refusal(reason: "the final record announces \(final.chunkCount) chunks / \(final.totalBytes) bytes but \(consumed) chunks / \(bytes) bytes were received (truncated transfer)")
        }
        guard final.manifestSHA256 == Hex.encode(Array(SHA256.hash(data: manifestBytes))) else {
            throw Refusal(reason: "the final record does not match the manifest (manifest replaced or tampered)")
        }
        guard final.streamDigest == chain.hex else {
            throw Refusal(reason: "the stream digest does not match the final record (tampered or mixed-up chunks)")
        }
        if let keyText = manifest.signerPublicKey {
            guard TransferPublicKey.verify(signature: final.signature, by: keyText,
                                           for: final.signedMessage(version: manifest.protocolVersion)) else {
                throw Refusal(reason: "the signature of the final record is missing or invalid")
            }
        } else if !trustedKeys.isEmpty {
            throw Refusal(reason: "transfer is not signed and this receiver only accepts signed transfers (--trust)")
        }
        if !published, let want = manifest.source.sha256, let hasher = sourceHasher {
            let got = Hex.encode(Array(hasher.finalize()))
            guard got == want.lowercased() else {
                throw Refusal(reason: "the received file's SHA-256 is \(got) but the manifest's source.sha256 is \(want) (the sender's file is not the one it announced)")
            }
        }
        if !published {
            // Durable before the output appears, so a host crash after the commit finds every chunk acknowledged.
            if durable.consumed < consumed { try checkpoint() }
            try publish()
        }
        let outputDirectory = (outputPath as NSString).deletingLastPathComponent
        if !ReceivedLedger.contains(id, in: outputDirectory) { try ReceivedLedger.record(id, in: outputDirectory) }
        try writeAck(state: "complete", durably: true)
        removeSpares()
        return true
    }

    private func publish() throws {
        writeback.sync {}
        if let sink {
            do { try sink.finish() } catch {
                throw Refusal(reason: "the restored output cannot be published: \(error)")
            }
            self.sink = nil
            close(fd)
            fd = -1
            FileSystem.remove(partialPath)
        } else {
            // Already fsynced: commitIfFinal takes a checkpoint of the whole stream before publishing.
            close(fd)
            fd = -1
            guard rename(partialPath, outputPath) == 0 else { throw TransferError.posix(outputPath, "rename the output into place") }
            AtomicFile.syncDirectory(.init(outputPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")))
        }
    }

    /// Removes the spare chunks kept for the sender (by name: a listing may be stale on a share).
    private func removeSpares() {
        guard ownsChunks else { return }
        for slot in 0..<TransferLayout.spareSlots(window: manifest.window) {
            FileSystem.remove(FileSystem.join(dir, TransferLayout.spareName(forChunk: slot, window: manifest.window)))
        }
    }

    /// Drops the partial output and the filter sink (after a refusal or expiry).
    func discard() {
        removeSpares()
        suspend()
        FileSystem.remove(partialPath)
    }

    /// Closes the session and keeps the partial output: reopening truncates it to the acknowledged
    /// bytes (anything written past the ack by a failed write is dropped then).
    func suspend() {
        prefetcher.cancel()
        writeback.sync {}
        sink?.cancel()
        sink = nil
        if fd >= 0 { close(fd); fd = -1 }
    }
}
