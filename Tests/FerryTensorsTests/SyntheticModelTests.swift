import Foundation
import Testing
@testable import FerryTensors

@Test func llama32OneBHasTheRealTensorCountAndSize() throws {
    let model = try #require(SyntheticModel.named("llama-3.2-1b"))
    #expect(model.tensors.count == 147)
    #expect(model.elementCount == 1_498_482_688)
    #expect(model.dataByteCount == 5_993_930_752)
    #expect(model.tensors.first?.spec == TensorSpec(name: "model.embed_tokens.weight", dtype: .f32, shape: [128_256, 2048]))
    #expect(model.tensors.first { $0.spec.name == "model.layers.15.self_attn.k_proj.weight" }?.spec.shape == [512, 2048])
    #expect(model.tensors.last?.fill == .normal(tiedTo: "model.embed_tokens.weight"))
    let bf16 = try #require(SyntheticModel.named("llama-3.2-1b", dtype: .bf16))
    #expect(bf16.dataByteCount == 5_993_930_752 / 2)
}

@Test func catalogNamesAllResolveAndUnknownOnesDoNot() {
    for name in SyntheticModel.names { #expect(SyntheticModel.named(name) != nil, "\(name)") }
    #expect(SyntheticModel.named("gpt2-small")?.elementCount == 124_439_808)
    #expect(SyntheticModel.named("no-such-model") == nil)
    #expect(SyntheticModel.named("tiny-mlp", dtype: .i32) == nil)
}

@Test(arguments: [DType.f32, .f16, .bf16])
func writtenModelIsDeterministicAndIndependentOfBufferSize(dtype: DType) throws {
    let dir = try TemporaryDirectory("synth")
    let model = try #require(SyntheticModel.named("llama-tiny", dtype: dtype))
    try model.write(to: dir.path("a.safetensors"), seed: 5, bufferSize: 1)
    try model.write(to: dir.path("b.safetensors"), seed: 5, bufferSize: 64 << 20)
    try model.write(to: dir.path("c.safetensors"), seed: 6)
    let a = try Data(contentsOf: URL(fileURLWithPath: dir.path("a.safetensors")))
    #expect(a == (try Data(contentsOf: URL(fileURLWithPath: dir.path("b.safetensors")))))
    #expect(a != (try Data(contentsOf: URL(fileURLWithPath: dir.path("c.safetensors")))))
    let reader = try SafetensorsReader(path: dir.path("a.safetensors"))
    #expect(reader.tensors.map(\.spec) == model.tensors.map(\.spec))
    #expect(reader.metadata["synthetic.model"] == "llama-tiny")
    let embed = try reader.floats(of: reader.tensor(named: "model.embed_tokens.weight"))
    #expect(try reader.floats(of: reader.tensor(named: "lm_head.weight")) == embed)
    #expect(try reader.floats(of: reader.tensor(named: "model.norm.weight")).allSatisfy { $0 == 1 })
    let q = try reader.floats(of: reader.tensor(named: "model.layers.1.self_attn.q_proj.weight"))
    #expect(q != Array(embed.prefix(q.count)))
    if dtype != .f32 {   // the same values as the f32 model, rounded to nearest even
        try #require(SyntheticModel.named("llama-tiny")).write(to: dir.path("f32.safetensors"), seed: 5)
        let wide = try SafetensorsReader(path: dir.path("f32.safetensors"))
        let rounded = try wide.floats(of: wide.tensor(named: "model.embed_tokens.weight")).map {
            dtype == .f16 ? FloatConversion.float(fromHalf: FloatConversion.halfBits(from: $0))
                : FloatConversion.float(fromBFloat16: FloatConversion.bfloat16Bits(from: $0))
        }
        #expect(embed == rounded)
    }
    let mean = embed.reduce(0, +) / Float(embed.count)
    let std = (embed.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(embed.count)).squareRoot()
    #expect(abs(mean) < 0.001)
    #expect(abs(std - 0.02) < 0.0005)
}

@Test func tinyMLPKeepsItsIntegerCounter() throws {
    let dir = try TemporaryDirectory("synth")
    try #require(SyntheticModel.named("tiny-mlp")).write(to: dir.path("m.safetensors"))
    let reader = try SafetensorsReader(path: dir.path("m.safetensors"))
    let counter = try reader.tensor(named: "bn.num_batches_tracked")
    #expect(counter.dtype == .i64 && counter.shape == [])
    #expect(try reader.values(of: counter, as: Int64.self) == [0])
    #expect(reader.header.elementCount == 2763)
}
