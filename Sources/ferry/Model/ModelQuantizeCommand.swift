import ArgumentParser
import FerryQuant
import FerrySupport
import Foundation

/// `ferry model quantize IN OUT --format F`: writes the quantized model.
struct ModelQuantizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a safetensors model to fp16, bf16, blockwise8, fp4, nf4, fp4-dq or nf4-dq.",
        discussion: """
        Streams the model tensor by tensor in block-aligned slices (memory stays bounded whatever the \
        model size) and writes a valid safetensors file atomically: per tensor its codes (U8) and absmax \
        (F32), with format, block size, source dtype and shape in `__metadata__` (docs/quantized-format.md). \
        F32, F16 and BF16 tensors are quantized (fp16/bf16 only narrow F32 tensors); other dtypes are \
        kept as they are. Codes match bitsandbytes 0.50.2 bit for bit.

        Prints the sizes as NVFlare does: `Before: X MiB. After: Y MiB with meta: Z MiB.` (meta = absmax \
        and header). --error also decodes the result and prints the mean and max absolute error.

        Formats: fp16 (NVFlare float16, clamped to ±65504), bf16, blockwise8 (4096-value blocks, \
        dynamic map), fp4 and nf4 (64-value blocks, two codes per byte), fp4-dq and nf4-dq (fp4/nf4 \
        with double-quantized absmax, as QLoRA and bitsandbytes' compress_statistics: about 12.9 % of \
        an f32 model instead of 14.1 %).

        Examples:
          ferry model quantize model.safetensors model.nf4.safetensors --format nf4
          ferry model quantize model.safetensors model.q8.safetensors --format blockwise8 --error
          ferry model quantize model.safetensors model.nf4dq.safetensors --format nf4-dq
        """
    )

    @Argument(help: ArgumentHelp("The model to quantize.", valueName: "IN"))
    var input: String

    @Argument(help: ArgumentHelp("Where to write the quantized model.", valueName: "OUT"))
    var output: String

    @Option(help: ArgumentHelp("fp16, bf16, blockwise8, fp4, nf4, fp4-dq or nf4-dq (NVFlare names float16, float4, normfloat4 work too).",
                               valueName: "format"))
    var format: String

    @Flag(help: "Also print the mean and max absolute error of the quantized values.")
    var error = false

    func validate() throws {
        guard QuantFormat(name: format) != nil else {
            throw ValidationError("unknown format '\(format)'; use one of \(QuantFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let quantFormat = QuantFormat(name: format)!
        let total = try QuantizingSource(modelPath: input, format: quantFormat).expectedByteCount
        let progress = ProgressDisplay(label: "quantize \(input)", total: total)
        let summary = try ModelQuantizer.quantize(input: input, output: output, format: quantFormat) { progress.update($0) }
        progress.finish()
        print(summary.nvflareLine)
        print("\(output): \(quantFormat.rawValue), \(summary.quantizedTensorCount) of \(summary.tensorCount) tensors quantized, "
              + "\(summary.fileByteCount) bytes")
        if error {
            let stats = try ModelQuantizer.measureError(original: input, quantized: output)
            var line = "quantization error: mean abs \(stats.mean.scientific), max abs \(stats.max.scientific) "
                + "over \(stats.count) values"
            if stats.skipped > 0 { line += " (\(stats.skipped) NaN/inf pairs skipped)" }
            print(line)
        }
    }
}

extension Double {
    /// `1.234e-03`.
    var scientific: String { String(format: "%.3e", self) }
}
