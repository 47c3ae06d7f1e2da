import Testing
@testable import FerryQuant

@Test func fp16RoundTripIsExactForRepresentableValues() {
    let values: [Float] = [0, 1, -2, 0.5, 65504, -0.25]
    let q = QuantCodec.encode(values, format: .fp16)
    #expect(QuantCodec.decode(q) == values)
}

@Test func nf4AllZeroBlockDecodesToZero() {
    let values = [Float](repeating: 0, count: 64)
    let q = QuantCodec.encode(values, format: .nf4)
    #expect(q.absmax == [0])
    #expect(QuantCodec.decode(q) == values)
}
