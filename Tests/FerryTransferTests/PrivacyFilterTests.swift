import FerrySupport
import FerryTensors
import FerryTransfer
import Foundation
import Testing

/// Issue 17: the privacy filters a site applies to its update (exclude, dp-gaussian, percentile),
/// checked against values computed by hand or by a plain in-memory reference.
@Suite struct PrivacyFilterTests {
    typealias Tensor = (name: String, dtype: DType, shape: [Int], values: [Float])

    final class Box {
        let root: String
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-privacy-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }
        func path(_ name: String) -> String { root + "/" + name }
    }

    static func write(_ path: String, _ tensors: [Tensor]) throws {
        let writer = try SafetensorsWriter(path: path, tensors: tensors.map { (name: $0.name, dtype: $0.dtype, shape: $0.shape) })
        for t in tensors {
            switch t.dtype {
            case .f16: try writer.append(contentsOf: t.values.map { FloatConversion.halfBits(from: $0) })
            case .bf16: try writer.append(contentsOf: t.values.map { FloatConversion.bfloat16Bits(from: $0) })
            case .i64: try writer.append(contentsOf: t.values.map { Int64($0) })
            default: try writer.append(contentsOf: t.values)
            }
        }
        try writer.commit()
    }

    static func values(_ path: String, _ name: String) throws -> [Float] {
        let reader = try SafetensorsReader(path: path)
        return try reader.floats(of: try reader.tensor(named: name))
    }

    static func names(_ path: String) throws -> [String] { try SafetensorsReader(path: path).tensors.map(\.name) }

    static func random(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float(rng.uniform() * 2 - 1) * scale }
    }

    // MARK: exclude

    @Test func excludeLeavesOutTheMatchingTensorsAndCopiesTheRest() throws {
        let box = try Box()
        try Self.write(box.path("model.safetensors"), [
            ("a.weight", .f32, [3], [1, 2, 3]), ("a.bias", .f32, [1], [4]),
            ("lm_head.weight", .f32, [2], [5, 6]), ("step", .i64, [1], [7]),
        ])
        let chain = UpdateFilterChain(filters: [.exclude(["*.bias", "lm_head.*"])], noiseSeed: 0)
        let outcome = try chain.apply(model: box.path("model.safetensors"), reference: nil, output: box.path("out.safetensors"))
        #expect(try Self.names(box.path("out.safetensors")) == ["a.weight", "step"])
        #expect(try Self.values(box.path("out.safetensors"), "a.weight") == [1, 2, 3])
        let reader = try SafetensorsReader(path: box.path("out.safetensors"))
        #expect(try reader.values(of: try reader.tensor(named: "step"), as: Int64.self) == [7])
        #expect(outcome.excluded == ["a.bias", "lm_head.weight"])
        #expect(outcome.applied.first?.excludedTensors == 2)
        #expect(outcome.applied.first?.patterns == ["*.bias", "lm_head.*"])
    }

    @Test func theReceiverFillsExcludedTensorsFromTheGlobalModel() throws {
        let box = try Box()
        try Self.write(box.path("global.safetensors"), [("w", .f32, [2], [1, 1]), ("b", .f32, [1], [9]), ("c", .f32, [1], [8])])
        try Self.write(box.path("result.safetensors"), [("w", .f32, [2], [3, 4])])
        let result = try SafetensorsReader(path: box.path("result.safetensors"))
        let global = try SafetensorsReader(path: box.path("global.safetensors"))
        // Only tensors matching a declared pattern are filled: "c" is missing without one.
        let missing = ExcludedTensors.missing(result: result, global: global, patterns: ["b"])
        #expect(missing.map(\.name) == ["b"])
        try ExcludedTensors.complete(result: result, global: global, missing: missing, output: box.path("whole.safetensors"))
        #expect(try Self.names(box.path("whole.safetensors")) == ["w", "b"])
        #expect(try Self.values(box.path("whole.safetensors"), "w") == [3, 4])
        #expect(try Self.values(box.path("whole.safetensors"), "b") == [9])
    }

    // MARK: dp-gaussian

    @Test func dpGaussianClipsTheUpdateToTheClipNorm() throws {
        let box = try Box()
        try Self.write(box.path("global.safetensors"), [("w", .f32, [2, 2], [1, 1, 1, 1]), ("v", .f32, [2], [0, 0])])
        // The update is [3, 4, 0, 0] and [0, 12]: L2 norm 13 over both tensors.
        try Self.write(box.path("model.safetensors"), [("w", .f32, [2, 2], [4, 5, 1, 1]), ("v", .f32, [2], [0, 12])])
        let clipped = UpdateFilterChain(filters: [.dpGaussian(DPGaussianSettings(clip: 6.5, noiseMultiplier: 0))], noiseSeed: 1)
        let outcome = try clipped.apply(model: box.path("model.safetensors"), reference: box.path("global.safetensors"),
                                        output: box.path("out.safetensors"))
        #expect(outcome.updateNorms == [13])
        // Scaled by 6.5 / 13 = 0.5 and added back to the global model.
        #expect(try Self.values(box.path("out.safetensors"), "w") == [2.5, 3, 1, 1])
        #expect(try Self.values(box.path("out.safetensors"), "v") == [0, 6])
        let record = try #require(outcome.applied.first)
        #expect(record.name == "dp-gaussian" && record.clip == 6.5 && record.noiseMultiplier == 0 && record.noiseStd == 0)
        #expect(record.seedSource == "site" && record.values == 6)
        // Below the clip norm the update is left as it is.
        let loose = UpdateFilterChain(filters: [.dpGaussian(DPGaussianSettings(clip: 20, noiseMultiplier: 0))], noiseSeed: 1)
        _ = try loose.apply(model: box.path("model.safetensors"), reference: box.path("global.safetensors"), output: box.path("same.safetensors"))
        #expect(try Self.values(box.path("same.safetensors"), "v") == [0, 12])
    }

    @Test func dpGaussianNoiseIsSeededWithTheConfiguredStandardDeviation() throws {
        let box = try Box()
        let n = 200_000
        let zeros = [Float](repeating: 0.5, count: n)
        try Self.write(box.path("global.safetensors"), [("w", .f32, [n], zeros)])
        try Self.write(box.path("model.safetensors"), [("w", .f32, [n], zeros)])
        func run(_ name: String, noiseSeed: UInt64, seed: UInt64? = nil) throws -> Data {
            let chain = UpdateFilterChain(filters: [.dpGaussian(DPGaussianSettings(clip: 0.25, noiseMultiplier: 2, seed: seed))], noiseSeed: noiseSeed)
            _ = try chain.apply(model: box.path("model.safetensors"), reference: box.path("global.safetensors"), output: box.path(name))
            return try #require(FileManager.default.contents(atPath: box.path(name)))
        }
        let first = try run("a.safetensors", noiseSeed: 11)
        #expect(try run("b.safetensors", noiseSeed: 11) == first)
        #expect(try run("c.safetensors", noiseSeed: 12) != first)
        // A seed the job fixes replaces the site's.
        #expect(try run("d.safetensors", noiseSeed: 99, seed: 11) == first)
        let noise = try Self.values(box.path("a.safetensors"), "w").map { Double($0) - 0.5 }
        let mean = noise.reduce(0, +) / Double(n)
        let std = (noise.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot()
        // σ = z·C = 0.5; the mean is within 5 standard errors of 0 and the deviation within 1 %.
        #expect(abs(mean) < 5 * 0.5 / Double(n).squareRoot(), "mean \(mean)")
        #expect(abs(std - 0.5) < 0.005, "std \(std)")
        let within1 = Double(noise.filter { abs($0) <= 0.5 }.count) / Double(n)
        #expect(abs(within1 - 0.6827) < 0.005, "P(|x| ≤ σ) = \(within1)")
    }

    @Test func dpGaussianRefusesTensorsItCannotNoiseAndMismatchedModels() throws {
        let box = try Box()
        try Self.write(box.path("global.safetensors"), [("w", .f32, [2], [0, 0]), ("step", .i64, [1], [1])])
        try Self.write(box.path("model.safetensors"), [("w", .f32, [2], [1, 1]), ("step", .i64, [1], [2])])
        let dp = PrivacyFilter.dpGaussian(DPGaussianSettings(clip: 1, noiseMultiplier: 1))
        let model = box.path("model.safetensors"), global = box.path("global.safetensors")
        #expect(throws: PrivacyFilterError.notFloat(tensor: "step", dtype: "I64")) {
            try UpdateFilterChain(filters: [dp], noiseSeed: 0).apply(model: model, reference: global, output: box.path("x.safetensors"))
        }
        _ = try UpdateFilterChain(filters: [.exclude(["step"]), dp], noiseSeed: 0).apply(model: model, reference: global, output: box.path("ok.safetensors"))
        #expect(try Self.names(box.path("ok.safetensors")) == ["w"])
        #expect(throws: PrivacyFilterError.noReference(path: box.path("none.safetensors"))) {
            try UpdateFilterChain(filters: [dp], noiseSeed: 0).apply(model: model, reference: box.path("none.safetensors"), output: box.path("x.safetensors"))
        }
        try Self.write(box.path("other.safetensors"), [("w", .f32, [1, 2], [0, 0])])
        #expect(throws: PrivacyFilterError.mismatch(tensor: "w", reason: "shape [2] but [1, 2] in the global model")) {
            try UpdateFilterChain(filters: [.exclude(["step"]), dp], noiseSeed: 0).apply(model: model, reference: box.path("other.safetensors"), output: box.path("x.safetensors"))
        }
        #expect(!FileManager.default.fileExists(atPath: box.path("x.safetensors")))
    }

    // MARK: percentile

    @Test func percentileSharesTheHandComputedEntries() throws {
        let box = try Box()
        try Self.write(box.path("global.safetensors"), [("w", .f32, [4], [0, 0, 0, 0])])
        try Self.write(box.path("model.safetensors"), [("w", .f32, [4], [1, -2, 3, -4])])
        // |delta| = 1, 2, 3, 4; the 50th percentile interpolates 2 and 3: 2.5. Kept: 3 and -4, clipped to ±2.5.
        let chain = UpdateFilterChain(filters: [.percentile(PercentileSettings(percentile: 50, gamma: 2.5))], noiseSeed: 0)
        let outcome = try chain.apply(model: box.path("model.safetensors"), reference: box.path("global.safetensors"), output: box.path("out.safetensors"))
        #expect(outcome.cutoffs == [2.5])
        #expect(try Self.values(box.path("out.safetensors"), "w") == [0, 0, 2.5, -2.5])
    }

    /// numpy.percentile(|delta|, q) (linear) over all tensors, then NVFlare's rule.
    static func percentileReference(_ deltas: [[Float]], scalar: [Bool], q: Double, gamma: Float) -> (Double, [[Float]]) {
        let all = deltas.flatMap { $0 }.map { abs($0) }.sorted()
        let position = q / 100 * Double(all.count - 1)
        let lo = Int(position.rounded(.down)), hi = min(lo + 1, all.count - 1)
        let cutoff = Double(all[lo]) + (Double(all[hi]) - Double(all[lo])) * (position - Double(lo))
        let shared = zip(deltas, scalar).map { d, isScalar in
            isScalar ? d : d.map { Double(abs($0)) < cutoff ? 0 : min(max($0, -gamma), gamma) }
        }
        return (cutoff, shared)
    }

    @Test(arguments: [0.0, 10, 73.5, 99.9, 100])
    func percentileMatchesTheInMemoryReference(q: Double) throws {
        let box = try Box()
        let g1 = Self.random(3700, seed: 1), g2 = Self.random(13, seed: 2)
        var d1 = Self.random(3700, seed: 3, scale: 0.5)
        for i in stride(from: 0, to: 3700, by: 7) { d1[i] = 0.125 }   // ties
        let d2 = Self.random(13, seed: 4, scale: 0.5), d3: [Float] = [0.75]
        try Self.write(box.path("global.safetensors"), [("w", .f32, [100, 37], g1), ("b", .f32, [13], g2), ("s", .f32, [], [1])])
        try Self.write(box.path("model.safetensors"), [("w", .f32, [100, 37], zip(g1, d1).map { $0 + $1 }),
                                                       ("b", .f32, [13], zip(g2, d2).map { $0 + $1 }), ("s", .f32, [], [1.75])])
        // The deltas the filter sees are (g + d) − g in Float arithmetic.
        let seen1 = zip(g1, d1).map { ($0 + $1) - $0 }, seen2 = zip(g2, d2).map { ($0 + $1) - $0 }
        let (cutoff, shared) = Self.percentileReference([seen1, seen2, d3], scalar: [false, false, true], q: q, gamma: 0.3)
        let chain = UpdateFilterChain(filters: [.percentile(PercentileSettings(percentile: q, gamma: 0.3))], noiseSeed: 0, bufferElements: 500)
        let outcome = try chain.apply(model: box.path("model.safetensors"), reference: box.path("global.safetensors"), output: box.path("out.safetensors"))
        #expect(outcome.cutoffs == [cutoff])
        #expect(try Self.values(box.path("out.safetensors"), "w") == zip(g1, shared[0]).map { $0 + $1 })
        #expect(try Self.values(box.path("out.safetensors"), "b") == zip(g2, shared[1]).map { $0 + $1 })
        // A 0-dimensional tensor passes unchanged, as in NVFlare.
        #expect(try Self.values(box.path("out.safetensors"), "s") == [1.75])
        let covered = try #require(outcome.applied.first?.values)
        #expect(covered == 3700 + 13 + 1)
    }

    // MARK: streaming

    @Test func theChainStreamsThroughABufferMuchSmallerThanTheModel() throws {
        let box = try Box()
        let n = 40_000
        try Self.write(box.path("global.safetensors"), [
            ("a", .f32, [n], Self.random(n, seed: 5)), ("h", .f16, [200, 50], Self.random(10_000, seed: 6)),
            ("bf", .bf16, [3000], Self.random(3000, seed: 7)), ("skip", .f32, [10], Self.random(10, seed: 8)),
        ])
        try Self.write(box.path("model.safetensors"), [
            ("a", .f32, [n], Self.random(n, seed: 9)), ("h", .f16, [200, 50], Self.random(10_000, seed: 10)),
            ("bf", .bf16, [3000], Self.random(3000, seed: 11)), ("skip", .f32, [10], Self.random(10, seed: 12)),
        ])
        let filters: [PrivacyFilter] = [
            .exclude(["skip"]), .percentile(PercentileSettings(percentile: 60, gamma: 0.05)),
            .dpGaussian(DPGaussianSettings(clip: 1, noiseMultiplier: 0.1)), .percentile(PercentileSettings(percentile: 20, gamma: 1)),
        ]
        // 64 values per slice: the model (53,010 values) passes through the buffer hundreds of times per pass.
        let small = try UpdateFilterChain(filters: filters, noiseSeed: 3, bufferElements: 64)
            .apply(model: box.path("model.safetensors"), reference: box.path("global.safetensors"), output: box.path("small.safetensors"))
        let whole = try UpdateFilterChain(filters: filters, noiseSeed: 3, bufferElements: 1 << 20)
            .apply(model: box.path("model.safetensors"), reference: box.path("global.safetensors"), output: box.path("whole.safetensors"))
        #expect(small == whole)
        #expect(FileManager.default.contents(atPath: box.path("small.safetensors")) == FileManager.default.contents(atPath: box.path("whole.safetensors")))
        #expect(try Self.names(box.path("small.safetensors")) == ["a", "h", "bf"])
        let header = try SafetensorsReader(path: box.path("small.safetensors")).tensors.map(\.dtype)
        #expect(header == [.f32, .f16, .bf16])
        #expect(small.updateNorms.count == 1 && small.cutoffs.count == 2)
    }
}
