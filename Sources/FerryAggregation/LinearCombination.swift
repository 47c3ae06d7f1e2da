import FerryTensors

/// `Σ wₖ·xₖ` of several safetensors files, tensor by tensor and slice by slice: the arithmetic of
/// SCAFFOLD's server step and of a client's control variate update. Products are accumulated in
/// `Double` and rounded once to the output dtype. Memory is one slice's buffers (about 28 bytes per
/// element of ``sliceElements``) whatever the number of terms: the terms are read one after another.
struct LinearCombination {
    /// One file of the sum.
    struct Term {
        var path: String
        var weight: Double
        /// The tensor `name` of the layout is `prefix + name` in this file (bundles keep their control
        /// variates under ``ScaffoldBundle/controlPrefix``).
        var prefix: String = ""
        /// Who the file belongs to, for errors.
        var label: String
    }

    /// A tensor of the output.
    struct Entry {
        var name: String
        var shape: [Int]
        var dtype: DType
        /// Non-float tensors are copied from the term at ``copiedFrom`` instead of summed.
        var copiedFrom: Int?
    }

    var sliceElements = 1 << 19

    /// Writes the sum of `terms` over `layout` to `output`, atomically.
    func write(_ layout: [Entry], terms: [Term], metadata: [String: String], into output: String) throws(AggregationError) {
        let readers = terms.isEmpty ? [] : try StreamingAggregator.openReaders(terms.map { AggregationInput(path: $0.path, weight: 1, label: $0.label) })
        var sources: [[TensorInfo]] = []
        for entry in layout {
            var infos: [TensorInfo] = []
            for (term, reader) in zip(terms, readers) {
                let name = term.prefix + entry.name
                guard let info = reader.header.tensor(named: name) else {
                    throw .missingTensor(client: term.label, tensor: name, reference: "the global model")
                }
                guard info.shape == entry.shape else {
                    throw .shapeMismatch(client: term.label, tensor: name, shape: info.shape, expected: entry.shape,
                                         reference: "the global model")
                }
                if entry.copiedFrom == nil, !info.dtype.isAveraged {
                    throw .unsupportedDType(client: term.label, tensor: name, dtype: info.dtype.rawValue)
                }
                if entry.copiedFrom != nil, info.dtype != entry.dtype {
                    throw .dtypeMismatch(client: term.label, tensor: name, dtype: info.dtype.rawValue,
                                         expected: entry.dtype.rawValue, reference: "the global model")
                }
                infos.append(info)
            }
            sources.append(infos)
        }
        let model = try AggregatedModelWriter(output: output, tensors: layout.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) },
                                              metadata: metadata)
        let slice = max(64, sliceElements)
        let buffers = SliceBuffers(elements: slice)
        defer { buffers.deallocate() }
        try model.publish { () throws(AggregationError) in
            for (entry, infos) in zip(layout, sources) {
                let count = entry.shape.reduce(1, *)
                var start = 0
                while start < count {
                    let n = min(slice, count - start)
                    if let source = entry.copiedFrom {
                        let e = entry.dtype.byteSize
                        try read(readers[source], infos[source], Int64(start * e)..<Int64((start + n) * e), buffers.output)
                    } else {
                        for k in terms.indices {
                            let e = infos[k].dtype.byteSize
                            let raw = UnsafeMutableRawBufferPointer(rebasing: buffers.raw[0..<(n * e)])
                            try read(readers[k], infos[k], Int64(start * e)..<Int64((start + n) * e), raw)
                            AggregationKernels.accumulate(raw: UnsafeRawBufferPointer(raw), dtype: infos[k].dtype, count: n,
                                                          weight: terms[k].weight, first: k == 0,
                                                          accumulator: buffers.accumulator, scratch: buffers.scratch)
                        }
                        if terms.isEmpty { buffers.accumulator.update(repeating: 0, count: n) }
                        AggregationKernels.finish(accumulator: buffers.accumulator, count: n, totalWeight: 1, dtype: entry.dtype,
                                                  scratch: buffers.scratch, output: buffers.output.baseAddress!)
                    }
                    try model.append(UnsafeRawBufferPointer(rebasing: buffers.output[0..<(n * entry.dtype.byteSize)]))
                    start += n
                }
            }
        }
    }

    private func read(_ reader: SafetensorsReader, _ info: TensorInfo, _ bytes: Range<Int64>,
                      _ buffer: UnsafeMutableRawBufferPointer) throws(AggregationError) {
        try StreamingAggregator().readSlice(reader, info, bytes: bytes, into: buffer, label: reader.path)
    }
}
