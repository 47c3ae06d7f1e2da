import FerrySupport
import FerryTensors

/// The passes of one ``UpdateFilterChain/apply(model:reference:output:)``: statistics of the update as
/// each filter sees it, then the output.
struct UpdateFilterRun {
    let chain: UpdateFilterChain
    let model: SafetensorsReader
    let reference: SafetensorsReader?
    let items: [FilterItem]
    /// dp-gaussian: the clipping factor, per stage.
    var scales: [Int: Double] = [:]
    /// percentile: the cutoff of |delta|, per stage.
    var cutoffs: [Int: Double] = [:]

    init(chain: UpdateFilterChain, model: SafetensorsReader, reference: SafetensorsReader?, items: [FilterItem]) {
        self.chain = chain
        self.model = model
        self.reference = reference
        self.items = items
    }

    /// The L2 norm of the update that the filter at `stage` receives.
    func updateNorm(stage: Int) throws(PrivacyFilterError) -> Double {
        var sum = 0.0
        try forEachUpdate(seenBy: stage) { _, delta in
            for v in delta { sum += Double(v) * Double(v) }
        }
        return sum.squareRoot()
    }

    /// The values the filter at `stage` covers.
    func values(stage: Int) -> Int64 {
        items.filter { $0.reference != nil && $0.isAlive(at: stage) }.reduce(0) { $0 + $1.info.elementCount }
    }

    /// The `percentile` of |delta| over the update that the filter at `stage` receives (two passes).
    func cutoff(stage: Int, percentile: Double) throws(PrivacyFilterError) -> Double {
        var quantile = AbsoluteQuantile()
        try forEachUpdate(seenBy: stage) { _, delta in quantile.countHigh(delta) }
        quantile.prepare(percentile: percentile)
        try forEachUpdate(seenBy: stage) { _, delta in quantile.countLow(delta) }
        return quantile.value()
    }

    /// Writes `global + filtered update` for every tensor not excluded; tensors no value-changing filter
    /// reaches are copied as they are.
    func write(output: String) throws(PrivacyFilterError) {
        let kept = items.filter { $0.droppedAt == nil }
        do {
            let writer = try SafetensorsWriter(path: output, tensors: kept.map { TensorSpec(name: $0.info.name, dtype: $0.info.dtype, shape: $0.info.shape) },
                                               metadata: model.metadata)
            do {
                for item in kept {
                    if item.reference == nil {
                        try model.forEachSlice(of: item.info, bufferSize: chain.bufferElements * item.info.dtype.byteSize) { _, bytes in
                            try writer.append(bytes)
                        }
                        continue
                    }
                    try forEachSlice(of: item, through: chain.filters.count) { global, delta in
                        var out = [Float](repeating: 0, count: delta.count)
                        for i in 0..<delta.count { out[i] = global[i] + delta[i] }
                        try writer.append(FloatEncoding.bytes(out, as: item.info.dtype))
                    }
                }
                try writer.commit()
            } catch {
                writer.abort()
                throw error
            }
        } catch let error as PrivacyFilterError {
            throw error
        } catch {
            throw .io(path: output, reason: "cannot write the filtered result: \(error)")
        }
    }

    /// Calls `body` with each slice of the update as the filter at `stage` receives it (the earlier
    /// filters applied), over every tensor that filter changes.
    private func forEachUpdate(seenBy stage: Int, _ body: (FilterItem, UnsafeBufferPointer<Float>) throws -> Void) throws(PrivacyFilterError) {
        do {
            for item in items where item.reference != nil && item.isAlive(at: stage) {
                try forEachSlice(of: item, through: stage) { _, delta in
                    try delta.withUnsafeBufferPointer { try body(item, $0) }
                }
            }
        } catch let error as PrivacyFilterError {
            throw error
        } catch {
            throw .io(path: model.path, reason: "\(error)")
        }
    }

    /// Reads `item` and its global counterpart slice by slice and calls `body` with the global values
    /// and the update after the filters before `stage`.
    private func forEachSlice(of item: FilterItem, through stage: Int, _ body: ([Float], [Float]) throws -> Void) throws {
        guard let reference, let global = item.reference else { return }
        var noises: [Int: GaussianNoise] = [:]
        for s in 0..<stage {
            if case .dpGaussian = chain.filters[s] {
                noises[s] = GaussianNoise(seed: chain.seed(stage: s), stream: "dp-gaussian/\(s)/\(item.info.name)")
            }
        }
        let count = Int(item.info.elementCount)
        var start = 0
        while start < count {
            let end = min(count, start + chain.bufferElements)
            let local = try Self.floats(model, item.info, start..<end)
            let base = try Self.floats(reference, global, start..<end)
            var delta = [Float](repeating: 0, count: end - start)
            for i in 0..<delta.count {
                delta[i] = local[i] - base[i]
                if !delta[i].isFinite { throw PrivacyFilterError.nonFinite(tensor: item.info.name) }
            }
            for s in 0..<stage {
                switch chain.filters[s] {
                case .exclude:
                    continue
                case .dpGaussian(let settings):
                    let scale = scales[s] ?? 1
                    let std = settings.noiseMultiplier * settings.clip
                    var noise = noises[s]!
                    for i in 0..<delta.count {
                        delta[i] = Float(Double(delta[i]) * scale + std * noise.next())
                    }
                    noises[s] = noise
                case .percentile(let settings):
                    // As NVFlare: a 0-dimensional tensor passes unchanged (it still counts in the cutoff).
                    if item.info.shape.isEmpty { continue }
                    let cutoff = cutoffs[s] ?? 0
                    let gamma = Float(settings.gamma)
                    for i in 0..<delta.count {
                        delta[i] = Double(abs(delta[i])) < cutoff ? 0 : min(max(delta[i], -gamma), gamma)
                    }
                }
            }
            try body(base, delta)
            start = end
        }
    }

    /// Values `range` of `tensor`, as Float.
    private static func floats(_ reader: SafetensorsReader, _ tensor: TensorInfo, _ range: Range<Int>) throws -> [Float] {
        let size = tensor.dtype.byteSize
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, range.count * size), alignment: 16)
        defer { buffer.deallocate() }
        try reader.read(tensor, byteRange: Int64(range.lowerBound * size)..<Int64(range.upperBound * size), into: buffer)
        return FloatConversion.decode(raw: UnsafeRawBufferPointer(rebasing: buffer[0..<(range.count * size)]), dtype: tensor.dtype)
    }
}

/// Float values as the little-endian bytes of a float dtype.
enum FloatEncoding {
    static func bytes(_ values: [Float], as dtype: DType) -> [UInt8] {
        if dtype == .f32 && UInt32(1).littleEndian == 1 { return values.withUnsafeBytes { Array($0) } }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * dtype.byteSize)
        for v in values {
            switch dtype {
            case .f16: withUnsafeBytes(of: FloatConversion.halfBits(from: v).littleEndian) { out += $0 }
            case .bf16: withUnsafeBytes(of: FloatConversion.bfloat16Bits(from: v).littleEndian) { out += $0 }
            case .f64: withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { out += $0 }
            default: withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 }
            }
        }
        return out
    }
}
