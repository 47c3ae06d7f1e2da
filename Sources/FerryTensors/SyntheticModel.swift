/// A model with a real architecture's tensor names and shapes and normal(0, 0.02) values, for
/// tests, demos and benchmarks.
///
/// Values are a pure function of the seed, the tensor's name and the element index (independent
/// of buffer sizes and thread counts). A tied tensor (`lm_head.weight` of Llama 3.2 1B) repeats the
/// values of the tensor it is tied to. Norm weights start at 1 and biases at 0, as in a freshly
/// initialised model; integer tensors are 0.
public struct SyntheticModel: Sendable {
    /// What a tensor is filled with.
    public enum Fill: Sendable, Equatable {
        /// Normal(0, 0.02) values from the tensor's own stream (or from the tensor named `tiedTo`).
        case normal(tiedTo: String?)
        /// Every element equals the value (norm weights: 1, biases: 0).
        case constant(Float)
    }

    /// One tensor: its description and fill.
    public struct Tensor: Sendable {
        /// Name, dtype and shape.
        public var spec: TensorSpec
        /// Values.
        public var fill: Fill
    }

    /// The architecture name (`llama-3.2-1b`, …).
    public let name: String
    /// One line about the architecture.
    public let summary: String
    /// The tensors, in file order.
    public let tensors: [Tensor]

    /// The architectures available, by name.
    public static let names = ["tiny-mlp", "llama-tiny", "gpt2-small", "llama-3.2-1b"]

    /// Total number of values.
    public var elementCount: Int64 { tensors.reduce(0) { $0 + ($1.spec.checkedElementCount ?? 0) } }

    /// Size of the data section.
    public var dataByteCount: Int64 { tensors.reduce(0) { $0 + ($1.spec.checkedByteCount ?? 0) } }

    /// The architecture called `name` with its float tensors in `dtype` (F32, F16 or BF16).
    /// Returns nil for an unknown name or a dtype other than F32, F16, BF16.
    public static func named(_ name: String, dtype: DType = .f32) -> SyntheticModel? {
        guard [.f32, .f16, .bf16].contains(dtype) else { return nil }
        switch name {
        case "tiny-mlp": return tinyMLP(dtype)
        case "llama-tiny":
            return llama(name, "Llama-style, 2 layers, hidden 64, vocab 1003 (partial blocks everywhere)", dtype: dtype,
                         vocab: 1003, hidden: 64, intermediate: 176, layers: 2, heads: 4, kvHeads: 2, tied: true)
        case "gpt2-small": return gpt2Small(dtype)
        case "llama-3.2-1b":
            return llama(name, "Llama 3.2 1B: 16 layers, hidden 2048, vocab 128256, tied lm_head", dtype: dtype,
                         vocab: 128_256, hidden: 2048, intermediate: 8192, layers: 16, heads: 32, kvHeads: 8, tied: true)
        default: return nil
        }
    }

    private static func tinyMLP(_ dtype: DType) -> SyntheticModel {
        SyntheticModel(name: "tiny-mlp", summary: "two dense layers (32 → 64 → 10) and a batch-norm step counter", tensors: [
            Tensor(spec: TensorSpec(name: "fc1.weight", dtype: dtype, shape: [64, 32]), fill: .normal(tiedTo: nil)),
            Tensor(spec: TensorSpec(name: "fc1.bias", dtype: dtype, shape: [64]), fill: .constant(0)),
            Tensor(spec: TensorSpec(name: "bn.num_batches_tracked", dtype: .i64, shape: []), fill: .constant(0)),
            Tensor(spec: TensorSpec(name: "fc2.weight", dtype: dtype, shape: [10, 64]), fill: .normal(tiedTo: nil)),
            Tensor(spec: TensorSpec(name: "fc2.bias", dtype: dtype, shape: [10]), fill: .constant(0)),
        ])
    }

    // swiftlint:disable:next function_parameter_count
    private static func llama(_ name: String, _ summary: String, dtype: DType, vocab: Int, hidden: Int, intermediate: Int,
                              layers: Int, heads: Int, kvHeads: Int, tied: Bool) -> SyntheticModel {
        let kv = hidden / heads * kvHeads
        func normal(_ n: String, _ shape: [Int]) -> Tensor {
            Tensor(spec: TensorSpec(name: n, dtype: dtype, shape: shape), fill: .normal(tiedTo: nil))
        }
        func ones(_ n: String) -> Tensor { Tensor(spec: TensorSpec(name: n, dtype: dtype, shape: [hidden]), fill: .constant(1)) }
        var t = [normal("model.embed_tokens.weight", [vocab, hidden])]
        for i in 0..<layers {
            let p = "model.layers.\(i)."
            t += [ones(p + "input_layernorm.weight"),
                  normal(p + "self_attn.q_proj.weight", [hidden, hidden]),
                  normal(p + "self_attn.k_proj.weight", [kv, hidden]),
                  normal(p + "self_attn.v_proj.weight", [kv, hidden]),
                  normal(p + "self_attn.o_proj.weight", [hidden, hidden]),
                  ones(p + "post_attention_layernorm.weight"),
                  normal(p + "mlp.gate_proj.weight", [intermediate, hidden]),
                  normal(p + "mlp.up_proj.weight", [intermediate, hidden]),
                  normal(p + "mlp.down_proj.weight", [hidden, intermediate])]
        }
        t.append(ones("model.norm.weight"))
        t.append(Tensor(spec: TensorSpec(name: "lm_head.weight", dtype: dtype, shape: [vocab, hidden]),
                        fill: .normal(tiedTo: tied ? "model.embed_tokens.weight" : nil)))
        return SyntheticModel(name: name, summary: summary, tensors: t)
    }

    private static func gpt2Small(_ dtype: DType) -> SyntheticModel {
        let d = 768
        func normal(_ n: String, _ shape: [Int]) -> Tensor {
            Tensor(spec: TensorSpec(name: n, dtype: dtype, shape: shape), fill: .normal(tiedTo: nil))
        }
        func const(_ n: String, _ size: Int, _ v: Float) -> Tensor {
            Tensor(spec: TensorSpec(name: n, dtype: dtype, shape: [size]), fill: .constant(v))
        }
        var t = [normal("wte.weight", [50_257, d]), normal("wpe.weight", [1024, d])]
        for i in 0..<12 {
            let p = "h.\(i)."
            t += [const(p + "ln_1.weight", d, 1), const(p + "ln_1.bias", d, 0),
                  normal(p + "attn.c_attn.weight", [d, 3 * d]), const(p + "attn.c_attn.bias", 3 * d, 0),
                  normal(p + "attn.c_proj.weight", [d, d]), const(p + "attn.c_proj.bias", d, 0),
                  const(p + "ln_2.weight", d, 1), const(p + "ln_2.bias", d, 0),
                  normal(p + "mlp.c_fc.weight", [d, 4 * d]), const(p + "mlp.c_fc.bias", 4 * d, 0),
                  normal(p + "mlp.c_proj.weight", [4 * d, d]), const(p + "mlp.c_proj.bias", d, 0)]
        }
        t += [const("ln_f.weight", d, 1), const("ln_f.bias", d, 0)]
        return SyntheticModel(name: "gpt2-small", summary: "GPT-2 small: 12 layers, hidden 768, vocab 50257", tensors: t)
    }
}
