import Testing
import FerryQuant

/// The portable SIMD kernels (C vector extensions: what ARM runs) against the scalar reference. The golden
/// tests run every available level, so they check the portable one against bitsandbytes on this machine.
extension KernelLevelTests {
    @Test func portableLevelRunsOnEveryCPU() {
        #expect(QuantKernels.availableLevels.prefix(2) == [.scalar, .portable])
        #expect(QuantKernels.Level.portable.name == "portable")
        defer { QuantKernels.setMaximumLevel(nil) }
        QuantKernels.setMaximumLevel(.portable)
        #expect(QuantKernels.activeLevel == .portable)
    }

    /// Every 16-bit pattern (NaN payloads, infinities, subnormals, ±0), rounding ties of the casts, random
    /// bit patterns and normal values, with full blocks and tails: every format's codes, absmax and
    /// decoded values (as f32, f16 and bf16) are the scalar reference's bytes at every level.
    @Test(arguments: FloatType.allCases)
    func everyLevelMatchesTheScalarKernelsOnEdgeInputs(type: FloatType) {
        let raw = edgeInput(type)
        defer { QuantKernels.setMaximumLevel(nil) }
        for format in QuantFormat.allCases {
            QuantKernels.setMaximumLevel(.scalar)
            let reference = KernelRun(raw: raw, type: type, format: format)
            for level in QuantKernels.availableLevels where level != .scalar {
                QuantKernels.setMaximumLevel(level)
                let run = KernelRun(raw: raw, type: type, format: format)
                let at = "\(format), \(type) source, \(level.name) kernels"
                #expect(firstDifference(run.encoded.payload, reference.encoded.payload) == nil, "codes, \(at)")
                #expect(firstDifference(run.absmaxBits, reference.absmaxBits) == nil, "absmax, \(at)")
                #expect(firstDifference(run.doubleQuantizedBits, reference.doubleQuantizedBits) == nil, "absmax codes, \(at)")
                for (out, (ours, theirs)) in zip(FloatType.allCases, zip(run.decoded, reference.decoded)) {
                    #expect(firstDifference(ours, theirs) == nil, "decoded to \(out), \(at)")
                }
            }
        }
    }
}

/// Where two outputs first differ ("index i: ours vs reference's"), nil when they are equal.
private func firstDifference<T: Equatable>(_ ours: [T], _ reference: [T]) -> String? {
    guard ours.count == reference.count else { return "\(ours.count) values, not \(reference.count)" }
    guard let i = ours.indices.first(where: { ours[$0] != reference[$0] }) else { return nil }
    return "index \(i): \(ours[i]) vs \(reference[i])"
}

/// One encode and the decodes of its result into every float type, at the level in use.
private struct KernelRun {
    let encoded: QuantizedValues
    let absmaxBits: [UInt32]
    /// nf4-dq and fp4-dq: the absmax codes, then the bits of the group scales and the offset.
    let doubleQuantizedBits: [UInt8]
    let decoded: [[UInt8]]

    init(raw: [UInt8], type: FloatType, format: QuantFormat) {
        let q = raw.withUnsafeBytes { QuantCodec.encode(raw: $0, type: type, format: format, threads: 1) }
        encoded = q
        absmaxBits = q.absmax.map(\.bitPattern)
        let dq = q.doubleQuantized
        doubleQuantizedBits = (dq?.codes ?? []) + ((dq?.scales ?? []) + [dq?.offset ?? 0]).withUnsafeBytes { Array($0) }
        decoded = FloatType.allCases.map { QuantCodec.decodeRaw(q, as: $0, threads: 1) }
    }
}

/// Raw values of `type`: normal values, every 16-bit pattern (as bf16 widened to f32 for an f32 source),
/// for f32 the f16 values with the f32 bits around half an f16 step (the cast's rounding ties), random
/// bit patterns, tiny (subnormal) values, and an odd tail that fills no block.
private func edgeInput(_ type: FloatType) -> [UInt8] {
    let normal = normalValues(9_000, seed: 19)
    let tiny = normalValues(4_200, seed: 20).map { $0 * 1e-36 }
    switch type {
    case .f32:
        var words = normal.map(\.bitPattern)
        words += (0...UInt32(0xFFFF)).map { $0 << 16 }
        for h in 0...UInt32(0xFFFF) where (h & 0x7C00) != 0x7C00 {
            let f = Float(Float16(bitPattern: UInt16(h))).bitPattern
            words += [f &+ 0x0FFF, f &+ 0x1000, f &+ 0x1001]
        }
        words += (0..<20_000).map { UInt32(truncatingIfNeeded: randomBits($0) >> 32) }
        words += [Float(65504), 65519.99, 65520, -65520, 1e30, -.infinity].map(\.bitPattern)
        words += tiny.map(\.bitPattern) + normal.prefix(37).map(\.bitPattern)
        return words.withUnsafeBytes { Array($0) }
    case .f16, .bf16:
        var halves = bytes16(of: normal, as: type)
        halves += (0...UInt16(0xFFFF)).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        halves += (0..<20_000).flatMap { i in
            let h = UInt16(truncatingIfNeeded: randomBits(i) >> 48)
            return [UInt8(h & 0xFF), UInt8(h >> 8)]
        }
        halves += bytes16(of: tiny, as: type) + bytes16(of: Array(normal.prefix(37)), as: type)
        return halves
    }
}

/// Bit pattern `i` of a fixed pseudo-random sequence (a multiplicative hash of the index).
private func randomBits(_ i: Int) -> UInt64 {
    let x = UInt64(i) &* 0x9E37_79B9_7F4A_7C15
    return (x ^ (x >> 29)) &* 0xBF58_476D_1CE4_E5B9
}
