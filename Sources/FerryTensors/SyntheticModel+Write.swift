import FerrySupport
import Dispatch
extension SyntheticModel {
    /// Values are generated in independent runs of this many elements (each seeded from the seed,
    /// the tensor's name and the run's index), so the result does not depend on buffer sizes.
    public static let valuesPerRun = 65_536

    /// Streams the model to `path` (published atomically), generating `bufferSize` bytes at a time
    /// on all cores: memory stays at about two buffers whatever the model size.
    /// - Parameter progress: called with the data bytes written so far.
    public func write(to path: String, seed: UInt64 = 0, bufferSize: Int = 8 << 20,
                      progress: ((Int64) -> Void)? = nil) throws {
        let writer = try SafetensorsWriter(path: path, tensors: tensors.map(\.spec),
                                           metadata: ["format": "pt", "synthetic.model": name, "synthetic.seed": String(seed)])
        let run = Self.valuesPerRun
        let sliceElements = max(run, bufferSize / 4 / run * run)
        let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: sliceElements)
        let narrow = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: sliceElements)
        defer { values.deallocate(); narrow.deallocate() }
        var written: Int64 = 0
        do {
            for tensor in tensors {
                let count = tensor.spec.checkedElementCount ?? 0
                var start: Int64 = 0
                while start < count {
                    let n = Int(min(Int64(sliceElements), count - start))
                    let bytes = fill(tensor, elements: start..<(start + Int64(n)), seed: seed, values: values, narrow: narrow)
                    try writer.append(bytes)
                    start += Int64(n)
                    written += Int64(bytes.count)
                    progress?(written)
                }
            }
            try writer.commit()
        } catch {
            writer.abort()
            throw error
        }
    }

    /// The bytes of `elements` of `tensor` (start a multiple of ``valuesPerRun``), generated into the buffers.
    private func fill(_ tensor: Tensor, elements: Range<Int64>, seed: UInt64,
                      values: UnsafeMutableBufferPointer<Float>, narrow: UnsafeMutableBufferPointer<UInt16>) -> UnsafeRawBufferPointer {
        let n = elements.count
        let dtype = tensor.spec.dtype
        let sixteen = dtype == .f16 || dtype == .bf16
        let result = sixteen ? UnsafeRawBufferPointer(narrow) : UnsafeRawBufferPointer(values)
        switch tensor.fill {
        case let .constant(v) where sixteen:
            narrow.initialize(repeating: Self.narrowBits(v, dtype))
        case let .constant(v) where dtype.isFloatingPoint:
            values.initialize(repeating: v)
        case .constant:
            UnsafeMutableRawBufferPointer(values).initializeMemory(as: UInt8.self, repeating: 0)
        case let .normal(tiedTo):
            let stream = Self.streamSeed(seed, tiedTo ?? tensor.spec.name)
            let runs = (n + Self.valuesPerRun - 1) / Self.valuesPerRun
            let firstRun = UInt64(elements.lowerBound) / UInt64(Self.valuesPerRun)
            // Each iteration writes only its own run of both buffers.
            nonisolated(unsafe) let out = values, out16 = narrow
            DispatchQueue.concurrentPerform(iterations: runs) { r in
                let lo = r * Self.valuesPerRun, hi = min(n, lo + Self.valuesPerRun)
                Self.normalRun(seed: stream &+ (firstRun + UInt64(r)) &* 0x9E37_79B9_7F4A_7C15,
                               into: UnsafeMutableBufferPointer(rebasing: out[lo..<hi]))
                if sixteen {
                    for i in lo..<hi { out16[i] = Self.narrowBits(out[i], dtype) }
                }
            }
        }
        return UnsafeRawBufferPointer(rebasing: result[0..<(n * dtype.byteSize)])
    }

    /// `v` as F16 or BF16 bits (round to nearest even).
    private static func narrowBits(_ v: Float, _ dtype: DType) -> UInt16 {
        dtype == .f16 ? FloatConversion.halfBits(from: v) : FloatConversion.bfloat16Bits(from: v)
    }

    /// FNV-1a of the name mixed with the seed.
    static func streamSeed(_ seed: UInt64, _ name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h ^ (seed &* 0xD1B5_4A32_D192_ED03)
    }

    /// Fills `out` with N(0, 0.02) values: splitmix64 uniforms from `seed`, Box–Muller pairs.
    public static func normalRun(seed: UInt64, into out: UnsafeMutableBufferPointer<Float>) {
        guard var p = out.baseAddress else { return }
        let end = p + out.count
        var state = seed
        // Straight-line code (no captured closures, no bounds checks): fast even in debug builds.
        while p < end {
            state &+= 0x9E37_79B9_7F4A_7C15
            var a = state
            a = (a ^ (a >> 30)) &* 0xBF58_476D_1CE4_E5B9
            a = (a ^ (a >> 27)) &* 0x94D0_49BB_1331_11EB
            a ^= a >> 31
            state &+= 0x9E37_79B9_7F4A_7C15
            var b = state
            b = (b ^ (b >> 30)) &* 0xBF58_476D_1CE4_E5B9
            b = (b ^ (b >> 27)) &* 0x94D0_49BB_1331_11EB
            b ^= b >> 31
            let u1 = (Float(a >> 40) + 0.5) * 0x1p-24
            let angle = Float(b >> 40) * (0x1p-24 * 2 * Float.pi)
            let r = (-2 * logf(u1)).squareRoot() * 0.02
            p.pointee = r * cosf(angle)
            if p + 1 < end { (p + 1).pointee = r * sinf(angle) }
            p += 2
        }
    }
}
