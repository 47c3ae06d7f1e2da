import FerryTensors

/// One tensor of a quantized file and its role: how its bytes are produced from (or turned back
/// into) the original tensor.
struct QuantizedPart: Sendable {
    enum Kind: Sendable, Equatable {
        /// Stored unchanged.
        case copy
        /// A 16-bit cast of a float tensor (`entry.format` is fp16 or bf16).
        case cast
        /// The absmax values of a block-wise tensor (F32).
        case absmax
        /// The codes of a block-wise tensor (U8).
        case codes
        /// The 8-bit absmax codes of a double-quantized tensor (U8, one per block).
        case absmaxCodes
        /// The per-group absmax scales of a double-quantized tensor (F32, one per 256 blocks).
        case absmaxScales
        /// The absmax offset of a double-quantized tensor (F32, one value).
        case absmaxOffset

        /// True for the three absmax parts of a double-quantized tensor.
        var isDoubleQuantizedAbsmax: Bool { self == .absmaxCodes || self == .absmaxScales || self == .absmaxOffset }
        /// True for the parts that hold a block-wise tensor's absmax (plain or double-quantized).
        var isAbsmax: Bool { self == .absmax || isDoubleQuantizedAbsmax }
    }

    var kind: Kind
    /// The tensor in the quantized file.
    var stored: TensorInfo
    /// The original tensor's name, dtype and shape.
    var original: TensorSpec
    /// Number of elements of the original tensor.
    var elementCount: Int64
    /// The format (nil for `.copy`).
    var format: QuantFormat?
    /// The original float type (nil for `.copy`).
    var sourceType: FloatType?
}

/// The mapping between a model and its quantized file, in the quantized file's data order.
struct QuantizedLayout: Sendable {
    /// The quantized file's header.
    var header: SafetensorsHeader
    /// One part per tensor of the quantized file, in offset order.
    var parts: [QuantizedPart]
    /// The restored model's tensors, in the original order.
    var restoredTensors: [TensorSpec]
    /// The restored model's `__metadata__` (the ferry keys removed).
    var restoredMetadata: [String: String]

    /// True when a float tensor of `dtype` is quantized by `format` (the casts only narrow F32,
    /// as NVFlare skips a 16-bit source for float16).
    static func quantizes(_ dtype: DType, with format: QuantFormat) -> Bool {
        guard let type = FloatType(dtype) else { return false }
        return format.isBlockwise || type == .f32
    }

    /// The layout of the quantized file for a model with `header`, quantized with `format`.
    static func forQuantizing(_ model: SafetensorsHeader, format: QuantFormat, file: String) throws -> QuantizedLayout {
        if model.metadata[QuantizedModelKeys.versionKey] != nil { throw QuantError.alreadyQuantized(file: file) }
        if let key = model.metadata.keys.sorted().first(where: { $0.hasPrefix(QuantizedModelKeys.reservedPrefix) }) {
            throw QuantError.nameCollision(file: file, name: key)
        }
        let names = Set(model.tensors.map(\.name))
        var specs: [TensorSpec] = []
        var kinds: [(QuantizedPart.Kind, TensorInfo)] = []
        var metadata = model.metadata
        metadata[QuantizedModelKeys.versionKey] = QuantizedModelKeys.version
        metadata[QuantizedModelKeys.formatKey] = format.rawValue
        for t in model.tensors {
            guard quantizes(t.dtype, with: format) else {
                specs.append(t.spec)
                kinds.append((.copy, t))
                continue
            }
            let n = t.elementCount
            if let castType = format.castDType {
                specs.append(TensorSpec(name: t.name, dtype: castType, shape: t.shape))
                kinds.append((.cast, t))
                metadata[QuantizedModelKeys.tensorKeyPrefix + t.name] =
                    QuantizedTensorEntry(format: format, sourceDType: t.dtype, shape: t.shape, absmax: nil).jsonText
            } else if format.isDoubleQuantized {
                let names3 = [QuantizedModelKeys.absmaxCodesSuffix, QuantizedModelKeys.absmaxScalesSuffix,
                              QuantizedModelKeys.absmaxOffsetSuffix].map { t.name + $0 }
                if let taken = names3.first(where: names.contains) { throw QuantError.nameCollision(file: file, name: taken) }
                specs.append(TensorSpec(name: names3[0], dtype: .u8, shape: [Int(format.blockCount(elements: n))]))
                kinds.append((.absmaxCodes, t))
                specs.append(TensorSpec(name: names3[1], dtype: .f32, shape: [Int(format.absmaxGroupCount(elements: n))]))
                kinds.append((.absmaxScales, t))
                specs.append(TensorSpec(name: names3[2], dtype: .f32, shape: [1]))
                kinds.append((.absmaxOffset, t))
                specs.append(TensorSpec(name: t.name, dtype: .u8, shape: [Int(format.payloadByteCount(elements: n))]))
                kinds.append((.codes, t))
                metadata[QuantizedModelKeys.tensorKeyPrefix + t.name] =
                    QuantizedTensorEntry(format: format, sourceDType: t.dtype, shape: t.shape, absmax: names3[0],
                                         absmaxScales: names3[1], absmaxOffset: names3[2]).jsonText
            } else {
                let absmaxName = t.name + QuantizedModelKeys.absmaxSuffix
                if names.contains(absmaxName) { throw QuantError.nameCollision(file: file, name: absmaxName) }
                specs.append(TensorSpec(name: absmaxName, dtype: .f32, shape: [Int(format.blockCount(elements: n))]))
                kinds.append((.absmax, t))
                specs.append(TensorSpec(name: t.name, dtype: .u8, shape: [Int(format.payloadByteCount(elements: n))]))
                kinds.append((.codes, t))
                metadata[QuantizedModelKeys.tensorKeyPrefix + t.name] =
                    QuantizedTensorEntry(format: format, sourceDType: t.dtype, shape: t.shape, absmax: absmaxName).jsonText
            }
        }
        let header = try SafetensorsHeader(tensors: specs, metadata: metadata)
        let parts = zip(header.tensors, kinds).map { stored, kind in
            QuantizedPart(kind: kind.0, stored: stored, original: kind.1.spec, elementCount: kind.1.elementCount,
                          format: kind.0 == .copy ? nil : format, sourceType: FloatType(kind.1.dtype))
        }
        return QuantizedLayout(header: header, parts: parts, restoredTensors: model.tensors.map(\.spec),
                               restoredMetadata: model.metadata)
    }

    /// Reads the layout of a quantized file from its header, checking every entry.
    static func forRestoring(_ header: SafetensorsHeader, file: String) throws -> QuantizedLayout {
        guard let version = header.metadata[QuantizedModelKeys.versionKey] else { throw QuantError.notQuantized(file: file) }
        guard version == QuantizedModelKeys.version else { throw QuantError.unsupportedVersion(file: file, version: version) }
        var byName: [String: TensorInfo] = [:]
        for t in header.tensors { byName[t.name] = t }
        var entries: [String: QuantizedTensorEntry] = [:]
        var absmaxOwner: [String: (owner: String, kind: QuantizedPart.Kind)] = [:]
        for (key, value) in header.metadata where key.hasPrefix(QuantizedModelKeys.tensorKeyPrefix) {
            let name = String(key.dropFirst(QuantizedModelKeys.tensorKeyPrefix.count))
            func invalid(_ reason: String) -> QuantError { .invalidEntry(file: file, tensor: name, reason: reason) }
            guard let entry = QuantizedTensorEntry(jsonText: value) else {
                throw invalid("its metadata entry is not valid JSON with format, source_dtype and shape")
            }
            guard let stored = byName[name] else { throw invalid("the file has no tensor of that name") }
            guard FloatType(entry.sourceDType) != nil else { throw invalid("source_dtype \(entry.sourceDType.rawValue) is not F32, F16 or BF16") }
            guard let n = entry.elementCount, n.multipliedReportingOverflow(by: 4).overflow == false else {
                throw invalid("shape \(entry.shape) has a negative dimension or is too large")
            }
            guard entry.blockSize == entry.format.blockSize else {
                throw invalid("block_size \(entry.blockSize.map(String.init) ?? "none") does not match format \(entry.format.rawValue)")
            }
            if let castType = entry.format.castDType {
                guard stored.dtype == castType, stored.elementCount == n else {
                    throw invalid("a \(entry.format.rawValue) tensor must be \(castType.rawValue) with \(n) elements, found \(stored.dtype.rawValue) with \(stored.elementCount)")
                }
            } else {
                guard stored.dtype == .u8, stored.byteCount == entry.format.payloadByteCount(elements: n) else {
                    throw invalid("codes must be U8 with \(entry.format.payloadByteCount(elements: n)) bytes for \(n) values")
                }
                for aux in try auxiliaryTensors(of: entry, codes: stored, elements: n, byName: byName, invalid: invalid) {
                    guard absmaxOwner.updateValue((name, aux.kind), forKey: aux.name) == nil, entries[aux.name] == nil else {
                        throw invalid("the absmax tensor '\(aux.name)' is shared or is itself quantized")
                    }
                }
            }
            entries[name] = entry
        }
        if let clash = absmaxOwner.keys.sorted().first(where: { entries[$0] != nil }) {
            throw QuantError.invalidEntry(file: file, tensor: clash, reason: "a tensor cannot be both an absmax and quantized")
        }
        var parts: [QuantizedPart] = []
        var restored: [TensorSpec] = []
        for t in header.tensors {
            if let (owner, kind) = absmaxOwner[t.name], let entry = entries[owner] {
                parts.append(QuantizedPart(kind: kind, stored: t,
                                           original: TensorSpec(name: owner, dtype: entry.sourceDType, shape: entry.shape),
                                           elementCount: entry.elementCount!, format: entry.format,
                                           sourceType: FloatType(entry.sourceDType)))
            } else if let entry = entries[t.name] {
                let spec = TensorSpec(name: t.name, dtype: entry.sourceDType, shape: entry.shape)
                parts.append(QuantizedPart(kind: entry.format.isBlockwise ? .codes : .cast, stored: t, original: spec,
                                           elementCount: entry.elementCount!, format: entry.format,
                                           sourceType: FloatType(entry.sourceDType)))
                restored.append(spec)
            } else {
                parts.append(QuantizedPart(kind: .copy, stored: t, original: t.spec, elementCount: t.elementCount,
                                           format: nil, sourceType: nil))
                restored.append(t.spec)
            }
        }
        let metadata = header.metadata.filter { !$0.key.hasPrefix(QuantizedModelKeys.reservedPrefix) }
        return QuantizedLayout(header: header, parts: parts, restoredTensors: restored, restoredMetadata: metadata)
    }

    /// Bytes of the quantized file that are not codes or cast values: the header and every absmax
    /// (NVFlare's "meta").
    var metaByteCount: Int64 {
        header.headerByteCount + parts.filter { $0.kind.isAbsmax }.reduce(0) { $0 + $1.stored.byteCount }
    }

    /// The absmax tensors a block-wise entry names, each checked against its codes `stored`
    /// (dtype, size, placed before the codes): `NAME.absmax`, or the three of a double-quantized format.
    private static func auxiliaryTensors(of entry: QuantizedTensorEntry, codes stored: TensorInfo, elements n: Int64,
                                         byName: [String: TensorInfo],
                                         invalid: (String) -> QuantError) throws -> [(name: String, kind: QuantizedPart.Kind)] {
        let format = entry.format
        let blocks = format.blockCount(elements: n)
        var expected: [(String?, String, QuantizedPart.Kind, DType, Int64)]
        if format.isDoubleQuantized {
            guard entry.absmaxBlockSize == QuantFormat.absmaxGroupSize else {
                throw invalid("absmax_block_size \(entry.absmaxBlockSize.map(String.init) ?? "none") must be \(QuantFormat.absmaxGroupSize) for \(format.rawValue)")
            }
            expected = [(entry.absmax, "absmax", .absmaxCodes, .u8, blocks),
                        (entry.absmaxScales, "absmax2", .absmaxScales, .f32, format.absmaxGroupCount(elements: n)),
                        (entry.absmaxOffset, "absmax_offset", .absmaxOffset, .f32, 1)]
        } else {
            guard entry.absmaxScales == nil, entry.absmaxOffset == nil, entry.absmaxBlockSize == nil else {
                throw invalid("absmax2, absmax_offset and absmax_block_size belong only to the double-quantized formats, not \(format.rawValue)")
            }
            expected = [(entry.absmax, "absmax", .absmax, .f32, blocks)]
        }
        var found: [(name: String, kind: QuantizedPart.Kind)] = []
        for (name, key, kind, dtype, count) in expected {
            guard let name, let tensor = byName[name], name != stored.name, !found.contains(where: { $0.name == name }) else {
                throw invalid("its \(key) tensor '\(name ?? "")' is missing")
            }
            guard tensor.dtype == dtype, tensor.elementCount == count else {
                throw invalid("\(key) must be \(dtype.rawValue) with \(count) values")
            }
            guard tensor.dataOffsets.upperBound <= stored.dataOffsets.lowerBound else {
                throw invalid("its \(key) tensor must come before the codes in the data section")
            }
            found.append((name, kind))
        }
        return found
    }
}
