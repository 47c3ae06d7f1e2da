import Testing
import FerryTensors
@testable import FerryQuant

/// Largest distance from a value in [-1, 1] to its nearest code (half the widest gap, or the edges).
private func halfWidestGap(_ code: [Float]) -> Float {
    let sorted = code.sorted()
    var worst = max(sorted.first! + 1, 1 - sorted.last!)
    for (a, b) in zip(sorted, sorted.dropFirst()) { worst = max(worst, (b - a) / 2) }
    return worst
}

/// Per-element bound on |x − decode(encode(x))| for each format, from the code books:
/// relative for the casts, a fraction of the block's absmax for the block-wise formats. The
/// double-quantized formats add the error of the restored absmax (``absmaxErrorBound``).
private func bound(_ format: QuantFormat) -> (relative: Float, ofAbsmax: Float) {
    switch format {
    case .fp4dq, .nf4dq: return bound(format.codesFormat)
    case .fp16: return (0x1p-11, 0)
    case .bf16: return (0x1p-8, 0)
    // The CPU rule quantizes onto a 65,536-point grid first: add two grid steps.
    case .blockwise8: return (0, (halfWidestGap(QuantKernels.dynamicMap) + 2 / 65535) * 1.0001)
    case .fp4: return (0, halfWidestGap(QuantKernels.fp4Code) * 1.0001)
    case .nf4: return (0, halfWidestGap(QuantKernels.nf4Code) * 1.0001)
    }
}

@Test(arguments: QuantFormat.allCases)
func roundTripErrorStaysWithinTheFormatsBound(format: QuantFormat) {
    // Two scales and an odd length, so blocks differ in range and the tail block is partial.
    let values = normalValues(50_001, seed: 11) + normalValues(9_999, seed: 12, sigma: 3)
    let decoded = QuantCodec.decode(QuantCodec.encode(values, format: format))
    let block = format.blockSize ?? 1
    let (relative, ofAbsmax) = bound(format)
    // |code| <= 1, so a restored absmax off by e moves a value by at most e: blockwise8's bound on
    // each 256-block group, relative to the group's scale.
    let restoredError: (Int) -> Float = { [q = QuantCodec.encode(values, format: format)] i in
        guard let dq = q.doubleQuantized else { return 0 }
        return dq.scales[i / 64 / QuantFormat.absmaxGroupSize] * bound(.blockwise8).ofAbsmax
    }
    var worst: Float = 0
    var violations: [String] = []
    for start in stride(from: 0, to: values.count, by: block) {
        let range = start..<min(values.count, start + block)
        let absmax = values[range].map(abs).max()!
        for i in range {
            let err = abs(values[i] - decoded[i])
            if !(err <= abs(values[i]) * relative + absmax * ofAbsmax + restoredError(i) + 0x1p-25) { violations.append("\(i): \(values[i]) → \(decoded[i])") }
            worst = max(worst, err / max(absmax, 1e-30))
        }
    }
    #expect(violations.isEmpty, "\(violations.prefix(5))")
    #expect(worst > 0)
}

@Test func nanFollowsTheCPUReference() {
    var values = normalValues(128, seed: 4)
    values[3] = .nan                                // blockwise8: ignored for absmax, code 0
    let q8 = QuantCodec.encode(values, format: .blockwise8)
    #expect(q8.payload[3] == 0)
    #expect(q8.absmax[0] == values.filter { !$0.isNaN }.map(abs).max())
    #expect(QuantCodec.decode(q8)[3] == QuantKernels.dynamicMap[0] * q8.absmax[0])
    let q4 = QuantCodec.encode(values, format: .nf4)  // nf4: the whole first block becomes NaN
    #expect(q4.absmax[0].isNaN && !q4.absmax[1].isNaN)
    let d4 = QuantCodec.decode(q4)
    #expect(d4[0..<64].allSatisfy { $0.isNaN })
    #expect(d4[64...].allSatisfy { !$0.isNaN })
    #expect(QuantCodec.decode(QuantCodec.encode([.nan, 1], format: .fp16))[0].isNaN)
    #expect(QuantCodec.decode(QuantCodec.encode([.infinity], format: .fp16)) == [65504])
}

extension KernelLevelTests {
    @Test func allLevelsGiveIdenticalResults() {
        let values = normalValues(70_000, seed: 8) + [0, -0, 1e-30, 65519.99]
        defer { QuantKernels.setMaximumLevel(nil) }
        for format in QuantFormat.allCases {
            var results: [QuantizedValues] = []
            for level in QuantKernels.availableLevels {
                QuantKernels.setMaximumLevel(level)
                results.append(QuantCodec.encode(values, format: format))
            }
            #expect(Set(results.map(\.payload)).count == 1, "\(format)")
            #expect(Set(results.map { $0.doubleQuantized?.codes ?? [] }).count == 1, "\(format) absmax codes")
        }
    }
}
