import ArgumentParser
import FerrySupport
import FerryTensors

/// `ferry model synth OUT --like NAME`: writes a synthetic model.
struct ModelSynthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a synthetic model with a real architecture's tensor names and shapes.",
        discussion: """
        Weights are normal(0, 0.02), norm weights 1, biases 0: deterministic for a seed, the same on every \
        machine and for every buffer size. The file is streamed (memory stays small even for \
        llama-3.2-1b, 6 GB in f32) and published atomically.

        Architectures:
          tiny-mlp       5 tensors, 2,763 values (one I64 counter)
          llama-tiny     21 tensors, Llama layout with odd sizes (partial blocks)
          gpt2-small     148 tensors, 124,439,808 values
          llama-3.2-1b   147 tensors, 1,498,482,688 values (tied lm_head; 6 GB in f32)

        Examples:
          ferry model synth m.safetensors --like tiny-mlp
          ferry model synth llama.safetensors --like llama-3.2-1b --dtype bf16 --seed 7
        """
    )

    @Argument(help: ArgumentHelp("Where to write the model.", valueName: "OUT"))
    var output: String

    @Option(help: ArgumentHelp("The architecture: \(SyntheticModel.names.joined(separator: ", ")).", valueName: "name"))
    var like: String

    @Option(help: ArgumentHelp("Element type of the float tensors: f32, f16 or bf16.", valueName: "dtype"))
    var dtype: String = "f32"

    @Option(help: "Seed of the values.")
    var seed: UInt64 = 0

    func validate() throws {
        guard SyntheticModel.names.contains(like) else {
            throw ValidationError("unknown architecture '\(like)'; use one of \(SyntheticModel.names.joined(separator: ", "))")
        }
        guard let d = DType(name: dtype), [.f32, .f16, .bf16].contains(d) else {
            throw ValidationError("--dtype must be f32, f16 or bf16, not '\(dtype)'")
        }
    }

    func run() async throws {
        let model = SyntheticModel.named(like, dtype: DType(name: dtype)!)!
        let progress = ProgressDisplay(label: output, total: model.dataByteCount)
        try model.write(to: output, seed: seed) { progress.update($0) }
        progress.finish()
        print("\(output): \(model.name), \(model.tensors.count) tensors, \(model.elementCount) values, "
              + "\(ByteCount.format(model.dataByteCount)) of data")
    }
}
