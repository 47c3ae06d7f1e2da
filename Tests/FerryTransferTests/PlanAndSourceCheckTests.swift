import Foundation
import Testing
@testable import FerryTransfer

/// A sender whose digests are all consistent but whose manifest lies — about the source's SHA-256 or
/// size, or about the chunk plan (count, sizes, offsets, container info) — is refused, and nothing
/// is published (docs/transfer-protocol.md §3 and §9).
@Suite struct PlanAndSourceCheckTests {
    /// Runs a receiver on `box` and returns the one refusal; checks nothing was published.
    private func refusal(_ box: TransferSandbox, receiver: TransferReceiver? = nil,
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = receiver ?? TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: unencryptedOptions(), decryptionKey: testRecipient)
        let pass = try receiveOne(r, seconds: 10)
        #expect(pass.completed.isEmpty, sourceLocation: sourceLocation)
        #expect(box.files(box.out).isEmpty, "published or left: \(box.files(box.out))", sourceLocation: sourceLocation)
        return try #require(pass.failed.first, sourceLocation: sourceLocation).reason
    }

    private func accepted(_ box: TransferSandbox, receiver: TransferReceiver? = nil,
                          sourceLocation: SourceLocation = #_sourceLocation) throws -> ReceivedTransfer {
        let r = receiver ?? TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: unencryptedOptions(), decryptionKey: testRecipient)
        let pass = try receiveOne(r, seconds: 10)
        return try #require(pass.completed.first, "\(pass.failed)", sourceLocation: sourceLocation)
    }

    private func bytes(_ count: Int, seed: UInt64 = 3) -> [UInt8] {
        var g = SplitMix(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: g.next() >> 17) }
    }

    // MARK: source.sha256 and source.size

    @Test func wrongSourceSHA256IsRefused() throws {
        let box = try TransferSandbox()
        var forged = ForgedTransfer(bytes: bytes(25_000), chunkSize: 10_000)
        forged.manifest.source.sha256 = sha256Hex(bytes(25_000, seed: 4))
        try forged.write(into: box.inbox)
        let reason = try refusal(box)
        #expect(reason.contains("source.sha256"), "\(reason)")
    }

    @Test func rightSourceSHA256IsAccepted() throws {
        let box = try TransferSandbox()
        let data = bytes(25_000)
        var forged = ForgedTransfer(bytes: data, chunkSize: 10_000)
        forged.manifest.source.sha256 = sha256Hex(data).uppercased()
        try forged.write(into: box.inbox)
        let done = try accepted(box)
        #expect(box.data(done.outputPath) == Data(data))
    }

    /// The digest of the chunks consumed before a restart is rebuilt from the partial output.
    @Test(arguments: [false, true]) func sourceSHA256IsCheckedAcrossARestart(lying: Bool) throws {
        let box = try TransferSandbox()
        let data = bytes(25_000)
        var forged = ForgedTransfer(bytes: data, chunkSize: 10_000)
        forged.manifest.source.sha256 = sha256Hex(lying ? bytes(25_000, seed: 9) : data)
        try forged.write(into: box.inbox, chunks: 1...2, final: false)
        let first = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: unencryptedOptions(), decryptionKey: testRecipient)
        #expect(try first.poll().failed.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: forged.folder(box.inbox) + "/chunk-000002"))
        try forged.write(into: box.inbox, chunks: 3...3)
        let restarted = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: unencryptedOptions(), decryptionKey: testRecipient)
        if lying {
            #expect(try refusal(box, receiver: restarted).contains("source.sha256"))
        } else {
            #expect(box.data(try accepted(box, receiver: restarted).outputPath) == Data(data))
        }
    }

    @Test func malformedSourceSHA256IsRefused() throws {
        let box = try TransferSandbox()
        var forged = ForgedTransfer(bytes: bytes(5_000), chunkSize: 10_000)
        forged.manifest.source.sha256 = "not-a-digest"
        try forged.write(into: box.inbox)
        #expect(try refusal(box).contains("is not 64 hexadecimal digits"))
    }

    @Test func sourceSizeOtherThanTheStreamIsRefused() throws {
        let box = try TransferSandbox()
        var forged = ForgedTransfer(bytes: bytes(25_000), chunkSize: 10_000)
        forged.manifest.source.size = 30_000
        try forged.write(into: box.inbox)
        #expect(try refusal(box).contains("source.size 30000 differs from streamSize 25000"))
    }

    // MARK: file-mode plan

    @Test func chunkCountOtherThanTheFilePlanIsRefused() throws {
        let box = try TransferSandbox()
        let data = bytes(25_000)
        var forged = ForgedTransfer(bytes: data, chunkSize: 10_000)
        // Four chunks of 6,250 bytes: each fits the chunk size, but the plan cuts three.
        forged.chunks = (0..<4).map { ([], Array(data[($0 * 6_250)..<(($0 + 1) * 6_250)])) }
        forged.manifest.chunkCount = 4
        try forged.write(into: box.inbox)
        #expect(try refusal(box).contains("chunkCount is 4 but the file-mode plan of a 25000-byte stream in 10000-byte chunks has 3"))
    }

    @Test func madeUpFileChunkSizesAreRefused() throws {
        let box = try TransferSandbox()
        let data = bytes(25_000)
        var forged = ForgedTransfer(bytes: data, chunkSize: 10_000)
        // Same count as the plan, other cuts: 5,000 + 10,000 + 10,000.
        forged.chunks = [([], Array(data[0..<5_000])), ([], Array(data[5_000..<15_000])), ([], Array(data[15_000...]))]
        try forged.write(into: box.inbox)
        #expect(try refusal(box).contains("chunk-000001 holds 5000 bytes at offset 0 but the chunk plan gives 10000"))
    }

    @Test func fileChunkWithInfoIsRefused() throws {
        let box = try TransferSandbox()
        var forged = ForgedTransfer(bytes: bytes(25_000), chunkSize: 10_000)
        forged.chunks[1].info = Array(#"{"header":false,"tensors":[]}"#.utf8)
        try forged.write(into: box.inbox)
        #expect(try refusal(box).contains("chunk-000002 carries 29 bytes of info but file-mode chunks have none"))
    }

    // MARK: container-mode plan

    /// A model, its bytes and its segments; a chunk size that splits the header and the large tensors.
    private func model(_ box: TransferSandbox) throws -> (bytes: [UInt8], segments: [StreamSegment]) {
        let path = try box.writeModel("model.safetensors")
        return ([UInt8](try #require(box.data(path))), try FilterBridge.containerSegments(path: path))
    }

    @Test func honestContainerPlanIsAccepted() throws {
        let box = try TransferSandbox()
        let (data, segments) = try model(box)
        let forged = ForgedTransfer(bytes: data, name: "model.safetensors", mode: .container, chunkSize: 256, segments: segments)
        #expect(forged.chunks.count > 100)
        try forged.write(into: box.inbox)
        #expect(box.data(try accepted(box).outputPath) == Data(data))
    }

    @Test func madeUpContainerInfoIsRefused() throws {
        let box = try TransferSandbox()
        let (data, segments) = try model(box)
        var forged = ForgedTransfer(bytes: data, name: "model.safetensors", mode: .container, chunkSize: 4_096, segments: segments)
        let index = try #require(forged.chunks.firstIndex { String(decoding: $0.info, as: UTF8.self).contains("layer.0.bias") })
        forged.chunks[index].info = Array(String(decoding: forged.chunks[index].info, as: UTF8.self)
            .replacingOccurrences(of: "layer.0.bias", with: "layer.0.evil").utf8)
        try forged.write(into: box.inbox)
        let reason = try refusal(box)
        #expect(reason.contains("\(TransferLayout.chunkName(index + 1)) has info") && reason.contains("made-up chunk info"), "\(reason)")
    }

    @Test func containerStreamCutLikeAFileIsRefused() throws {
        let box = try TransferSandbox()
        let (data, _) = try model(box)
        // Fixed 4 KiB cuts without info: the count is plausible, the cuts are not the container plan's.
        var forged = ForgedTransfer(bytes: data, name: "model.safetensors", mode: .file, chunkSize: 4_096)
        forged.manifest.mode = .container
        try forged.write(into: box.inbox)
        #expect(try refusal(box).contains("chunk-000001 holds 4096 bytes at offset 0 but the chunk plan gives"))
    }

    @Test(arguments: [-1, 1]) func containerChunkCountOtherThanThePlanIsRefused(delta: Int) throws {
        let box = try TransferSandbox()
        let (data, segments) = try model(box)
        var forged = ForgedTransfer(bytes: data, name: "model.safetensors", mode: .container, chunkSize: 4_096, segments: segments)
        let planned = forged.chunks.count
        forged.manifest.chunkCount = planned + delta
        try forged.write(into: box.inbox)
        let reason = try refusal(box)
        #expect(reason.contains("the manifest announces \(planned + delta) chunks"), "\(reason)")
    }

    @Test func containerStreamThatIsNotSafetensorsIsRefused() throws {
        let box = try TransferSandbox()
        var forged = ForgedTransfer(bytes: bytes(25_000), mode: .file, chunkSize: 10_000)
        forged.manifest.mode = .container
        try forged.write(into: box.inbox)
        #expect(try refusal(box).contains("container-mode stream"))
    }

    /// A receiver restarted mid-stream re-derives the plan from its partial output: before the header
    /// is complete (1 chunk of 256 bytes), just after, and well into the tensors.
    @Test(arguments: [1, 3, 40]) func containerPlanIsFollowedAcrossARestart(consumedBeforeRestart: Int) throws {
        for lying in [false, true] {
            let box = try TransferSandbox()
            let (data, segments) = try model(box)
            var forged = ForgedTransfer(bytes: data, name: "model.safetensors", mode: .container, chunkSize: 256, segments: segments)
            let next = consumedBeforeRestart  // 0-based index of the first chunk after the restart
            if lying {
                // Move one byte from the next chunk into the one after it: sizes still add up.
                let moved = forged.chunks[next].payload.removeLast()
                forged.chunks[next + 1].payload.insert(moved, at: 0)
            }
            try forged.write(into: box.inbox, chunks: 1...consumedBeforeRestart, final: false)
            let first = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: unencryptedOptions(), decryptionKey: testRecipient)
            #expect(try first.poll().failed.isEmpty)
            try forged.write(into: box.inbox, chunks: (consumedBeforeRestart + 1)...forged.chunks.count)
            let restarted = TransferReceiver(inbox: box.inbox, outputDirectory: box.out, options: unencryptedOptions(), decryptionKey: testRecipient)
            if lying {
                #expect(try refusal(box, receiver: restarted).contains("made-up chunk sizes"))
            } else {
                #expect(box.data(try accepted(box, receiver: restarted).outputPath) == Data(data))
            }
        }
    }

    /// The lazy chunker cuts exactly what the eager reference rule cuts, on random layouts.
    @Test func containerChunkerMatchesTheReferenceRule() {
        var g = SplitMix(seed: 5)
        for _ in 0..<300 {
            var segments = [StreamSegment(name: nil, start: 0, end: Int64(8 + g.next() % 300))]
            for i in 0..<Int(g.next() % 12) {
                let size = Int64([0, 1, 7, 64, 100, 1_000][Int(g.next() % 6)] + Int(g.next() % 50))
                segments.append(StreamSegment(name: "t\(i)", start: segments.last!.end, end: segments.last!.end + size))
            }
            let size = segments.last!.end
            let chunkSize = Int(1 + g.next() % 200)
            let plan = ChunkPlan.container(segments: segments, streamSize: size, chunkSize: chunkSize)
            let reference = referencePlan(segments, streamSize: size, chunkSize: chunkSize)
            #expect(plan.chunks.map(\.offset) == reference.map(\.offset))
            #expect(plan.chunks.map(\.length) == reference.map(\.length))
            #expect(plan.chunks.map(\.info) == reference.map(\.info))
        }
    }

    /// The greedy rule as docs/transfer-protocol.md §2 states it, for contiguous segments.
    private func referencePlan(_ segments: [StreamSegment], streamSize: Int64, chunkSize: Int) -> [ChunkSpec] {
        let limit = Int64(chunkSize)
        var chunks = [ChunkSpec]()
        var start: Int64 = 0, end: Int64 = 0
        var parts = [ChunkInfo.Part]()
        func close() {
            guard end > start else { return }
            chunks.append(ChunkSpec(offset: start, length: Int(end - start), info: ChunkInfo(parts: parts).encoded()))
            start = end
            parts = []
        }
        for seg in segments where seg.end > seg.start {
            var s = seg.start
            while s < seg.end {
                let room = limit - (end - start)
                let take: Int64
                if seg.end - s <= room { take = seg.end - s } else if end > start { close(); continue } else { take = limit }
                parts.append(ChunkInfo.Part(segment: seg, dataEnd: seg.end, from: s, to: s + take))
                end = s + take
                s += take
                if end - start == limit { close() }
            }
        }
        close()
        return chunks
    }
}
