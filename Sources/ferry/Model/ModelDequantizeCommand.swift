import ArgumentParser
import FerryQuant
import FerrySupport
import FerryTensors

/// `ferry model dequantize IN OUT`: restores a quantized model.
struct ModelDequantizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dequantize",
        abstract: "Restore a model written by `ferry model quantize` to its source dtypes and shapes.",
        discussion: """
        Reads the quantized file as a stream and writes the restored model atomically: every quantized \
        tensor is decoded (`code[q] * absmax[block]` in float32, rounded to the source dtype) and gets its \
        original shape back; other tensors and the model's own `__metadata__` are copied. Everything the \
        restore needs is in the file's `__metadata__` (docs/quantized-format.md).

        Examples:
          ferry model dequantize model.nf4.safetensors restored.safetensors
        """
    )

    @Argument(help: ArgumentHelp("The quantized model.", valueName: "IN"))
    var input: String

    @Argument(help: ArgumentHelp("Where to write the restored model.", valueName: "OUT"))
    var output: String

    func run() async throws {
        let total = try SafetensorsReader(path: input).fileSize
        let progress = ProgressDisplay(label: "dequantize \(input)", total: total)
        let size = try ModelQuantizer.dequantize(input: input, output: output) { progress.update($0) }
        progress.finish()
        print("\(output): restored, \(ByteCount.format(size)) (\(size) bytes)")
    }
}
