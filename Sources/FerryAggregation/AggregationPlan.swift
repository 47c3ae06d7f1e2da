import FerryTensors

/// The checked layout of an aggregation: the first client's tensors, matched by name in every
/// other client's file, with compatible shapes and dtypes.
struct AggregationPlan {
    struct Tensor {
        var name: String
        var shape: [Int]
        var elementCount: Int64
        var outputDType: DType
        /// Averaged (float) or copied from the first client (integer, boolean).
        var averaged: Bool
        /// The tensor's entry in each client's file, in client order.
        var clientTensors: [TensorInfo]
    }

    var tensors: [Tensor]

    var outputSpecs: [TensorSpec] {
        tensors.map { TensorSpec(name: $0.name, dtype: $0.outputDType, shape: $0.shape) }
    }

    init(inputs: [AggregationInput], readers: [SafetensorsReader]) throws(AggregationError) {
        let reference = inputs[0].label
        var tensors: [Tensor] = []
        for info in readers[0].tensors {
            let averaged = info.dtype.isFloatingPoint
            if averaged, !info.dtype.isAveraged {
                throw .unsupportedDType(client: reference, tensor: info.name, dtype: info.dtype.rawValue)
            }
            tensors.append(Tensor(name: info.name, shape: info.shape, elementCount: info.elementCount,
                                  outputDType: info.dtype, averaged: averaged, clientTensors: [info]))
        }
        for client in inputs.indices.dropFirst() {
            let label = inputs[client].label
            let header = readers[client].header
            for index in tensors.indices {
                let expected = tensors[index]
                guard let info = header.tensor(named: expected.name) else {
                    throw .missingTensor(client: label, tensor: expected.name, reference: reference)
                }
                guard info.shape == expected.shape else {
                    throw .shapeMismatch(client: label, tensor: info.name, shape: info.shape,
                                         expected: expected.shape, reference: reference)
                }
                if expected.averaged {
                    guard info.dtype.isFloatingPoint else {
                        throw .dtypeMismatch(client: label, tensor: info.name, dtype: info.dtype.rawValue,
                                             expected: expected.outputDType.rawValue, reference: reference)
                    }
                    guard info.dtype.isAveraged else {
                        throw .unsupportedDType(client: label, tensor: info.name, dtype: info.dtype.rawValue)
                    }
                } else if info.dtype != expected.outputDType {
                    throw .dtypeMismatch(client: label, tensor: info.name, dtype: info.dtype.rawValue,
                                         expected: expected.outputDType.rawValue, reference: reference)
                }
                tensors[index].clientTensors.append(info)
            }
            if header.tensors.count != tensors.count {
                let known = Set(tensors.map(\.name))
                if let extra = header.tensors.first(where: { !known.contains($0.name) }) {
                    throw .unexpectedTensor(client: label, tensor: extra.name, reference: reference)
                }
            }
        }
        self.tensors = tensors
    }
}
