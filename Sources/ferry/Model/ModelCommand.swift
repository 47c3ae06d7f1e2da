import ArgumentParser

/// `ferry model …`: inspect, synthesize, quantize and dequantize safetensors models.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect, synthesize, quantize and dequantize safetensors models.",
        subcommands: [
            ModelInspectCommand.self,
            ModelSynthCommand.self,
            ModelQuantizeCommand.self,
            ModelDequantizeCommand.self,
        ]
    )
}
