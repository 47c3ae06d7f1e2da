import FerryTensors

/// Reads and writes the trainer's model: F32 tensors `weight` [features] and `bias` [1].
/// Input models in F16, BF16 or F64 are accepted too (converted on read).
enum ModelFile {
    static func read(path: String, features: Int) throws -> LogisticModel {
        let reader = try SafetensorsReader(path: path)
        let weight = try values(reader, name: "weight", count: features, path: path)
        let bias = try values(reader, name: "bias", count: 1, path: path)
        return LogisticModel(weight: weight, bias: bias[0])
    }

    private static func values(_ reader: SafetensorsReader, name: String, count: Int, path: String) throws -> [Double] {
        guard let tensor = reader.header.tensor(named: name) else {
            throw Trainer.Failure(description: "\(path): the model has no tensor '\(name)' (expected 'weight' [\(count)] and 'bias' [1])")
        }
        guard tensor.elementCount == Int64(count) else {
            throw Trainer.Failure(description: "\(path): tensor '\(name)' has shape \(tensor.shape), expected [\(count)]"
                                  + (name == "weight" ? " (pass --features \(tensor.elementCount) to match it)" : ""))
        }
        switch tensor.dtype {
        case .f32, .f16, .bf16, .f64:
            return try reader.floats(of: tensor).map(Double.init)
        default:
            throw Trainer.Failure(description: "\(path): tensor '\(name)' has dtype \(tensor.dtype.rawValue); expected F32, F16, BF16 or F64")
        }
    }

    static func write(_ model: LogisticModel, to path: String) throws {
        let writer = try SafetensorsWriter(path: path, tensors: [
            (name: "bias", dtype: .f32, shape: [1]),
            (name: "weight", dtype: .f32, shape: [model.weight.count]),
        ])
        try writer.append(contentsOf: [Float(model.bias)])
        try writer.append(contentsOf: model.weight.map { Float($0) })
        try writer.commit()
    }
}
