extension SafetensorsHeader {
    /// Reads the JSON length from the first 8 bytes of a file and checks it against the limits.
    ///
    /// - Parameters:
    ///   - prefix: at least the first 8 bytes of the file.
    ///   - fileSize: the file's size when known (a stream may not know it).
    ///   - source: the file name or stream label used in errors.
    /// - Returns: `N`, the number of JSON bytes that follow the prefix.
    public static func jsonByteCount(prefix: UnsafeRawBufferPointer, fileSize: Int64? = nil,
                                     source: String = "<stream>") throws(SafetensorsError) -> Int {
        guard prefix.count >= 8 else { throw .fileTooSmall(file: source, size: fileSize ?? Int64(prefix.count)) }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(prefix[i]) }
        guard length <= maximumJSONByteCount else { throw .headerTooLarge(file: source, length: length) }
        if let fileSize, Int64(length) > fileSize - 8 {
            throw .headerPastEnd(file: source, length: length, fileSize: fileSize)
        }
        return Int(length)
    }

    /// Parses and validates a header.
    ///
    /// - Parameters:
    ///   - bytes: the start of the file: the 8-byte length and at least the JSON it announces
    ///     (bytes after the header are ignored).
    ///   - fileSize: the size of the whole file, when known. With it the data section must be exactly
    ///     covered by the tensors; without it (a stream) the data section is taken to end where the
    ///     last tensor ends.
    ///   - source: the file name or stream label used in errors.
    /// - Throws: ``SafetensorsError`` naming `source` and the problem.
    public static func parse(_ bytes: UnsafeRawBufferPointer, fileSize: Int64? = nil,
                             source: String = "<stream>") throws(SafetensorsError) -> SafetensorsHeader {
        if let fileSize, fileSize < 8 { throw .fileTooSmall(file: source, size: fileSize) }
        let n = try jsonByteCount(prefix: bytes, fileSize: fileSize, source: source)
        guard bytes.count - 8 >= n else {
            throw .headerPastEnd(file: source, length: UInt64(n), fileSize: fileSize ?? Int64(bytes.count))
        }
        let json = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + n)])
        let headerByteCount = 8 + Int64(n)
        let dataSize = fileSize.map { $0 - headerByteCount }
        return try parseJSON(json, headerByteCount: headerByteCount, dataSize: dataSize, source: source)
    }

    /// Parses and validates a header from an array of bytes (see ``parse(_:fileSize:source:)-(UnsafeRawBufferPointer,_,_)``).
    public static func parse(_ bytes: [UInt8], fileSize: Int64? = nil,
                             source: String = "<stream>") throws(SafetensorsError) -> SafetensorsHeader {
        let result: Result<SafetensorsHeader, SafetensorsError> = bytes.withUnsafeBytes { raw in
            do throws(SafetensorsError) { return .success(try parse(raw, fileSize: fileSize, source: source)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func parseJSON(_ json: UnsafeRawBufferPointer, headerByteCount: Int64, dataSize: Int64?,
                          source: String) throws(SafetensorsError) -> SafetensorsHeader {
        guard json.first == UInt8(ascii: "{") else {
            throw .invalidJSON(file: source, reason: "it must start with '{'")
        }
        let root: JSONValue
        do {
            root = try HeaderJSONParser.parse(json)
        } catch {
            switch error {
            case let .syntax(reason, offset):
                throw .invalidJSON(file: source, reason: "\(reason) at header byte \(offset + 8)")
            case let .duplicateKey(key, path):
                guard let top = path.first else { throw .duplicateName(file: source, name: key) }
                if top == "__metadata__" && path.count == 1 {
                    throw .invalidMetadata(file: source, key: key, reason: "the key appears twice")
                }
                throw .invalidEntry(file: source, tensor: top, reason: "field '\(key)' appears twice")
            }
        }
        guard case let .object(members) = root else {
            throw .invalidJSON(file: source, reason: "the top level is \(root.typeName), not an object")
        }

        var metadata: [String: String] = [:]
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(members.count)
        for member in members {
            let name = member.key, value = member.value
            if name == "__metadata__" {
                metadata = try parseMetadata(value, source: source)
            } else {
                tensors.append(try parseTensor(name: name, value, source: source))
            }
        }
        let dataByteCount = try checkLayout(&tensors, dataSize: dataSize, source: source)
        return SafetensorsHeader(unchecked: tensors, metadata: metadata,
                                 headerByteCount: headerByteCount, dataByteCount: dataByteCount)
    }

    private static func parseMetadata(_ value: JSONValue, source: String) throws(SafetensorsError) -> [String: String] {
        switch value {
        case .null:
            return [:]
        case let .object(entries):
            var metadata: [String: String] = [:]
            for entry in entries {
                let key = entry.key, v = entry.value
                guard case let .string(s) = v else {
                    throw .invalidMetadata(file: source, key: key, reason: "value is \(v.typeName); metadata values must be strings")
                }
                metadata[key] = s
            }
            return metadata
        default:
            throw .invalidMetadata(file: source, key: nil, reason: "it is \(value.typeName); it must be an object of strings")
        }
    }

    private static func parseTensor(name: String, _ value: JSONValue, source: String) throws(SafetensorsError) -> TensorInfo {
        guard case let .object(fields) = value else {
            throw .invalidEntry(file: source, tensor: name, reason: "it is \(value.typeName), not an object with dtype, shape and data_offsets")
        }
        func field(_ key: String) throws(SafetensorsError) -> JSONValue {
            guard let v = fields.first(where: { $0.key == key })?.value else {
                throw .invalidEntry(file: source, tensor: name, reason: "missing field '\(key)'")
            }
            return v
        }
        guard case let .string(dtypeName) = try field("dtype") else {
            throw .invalidEntry(file: source, tensor: name, reason: "'dtype' must be a string")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw .unknownDType(file: source, tensor: name, dtype: dtypeName)
        }
        guard case let .array(shapeItems) = try field("shape") else {
            throw .invalidEntry(file: source, tensor: name, reason: "'shape' must be an array of integers")
        }
        let shapeText = "[" + shapeItems.map { if case let .number(n) = $0 { return n } else { return $0.typeName } }
            .joined(separator: ", ") + "]"
        var shape: [Int] = []
        shape.reserveCapacity(shapeItems.count)
        for item in shapeItems {
            guard case let .number(text) = item else {
                throw .invalidEntry(file: source, tensor: name, reason: "'shape' must be an array of integers, found \(item.typeName)")
            }
            switch parseInteger(text) {
            case let .value(v): shape.append(Int(v))
            case .negative: throw .invalidShape(file: source, tensor: name, shape: shapeText, reason: "negative dimension")
            case .tooLarge: throw .invalidShape(file: source, tensor: name, shape: shapeText, reason: "dimension overflows 64 bits")
            case .notInteger: throw .invalidEntry(file: source, tensor: name, reason: "'shape' must hold integers, found \(text)")
            }
        }
        guard case let .array(offsetItems) = try field("data_offsets"), offsetItems.count == 2 else {
            throw .invalidEntry(file: source, tensor: name, reason: "'data_offsets' must be an array of two integers [begin, end]")
        }
        var offsets: [Int64] = []
        for item in offsetItems {
            guard case let .number(text) = item, case let .value(v) = parseInteger(text) else {
                throw .invalidEntry(file: source, tensor: name,
                                    reason: "'data_offsets' must hold two non-negative integers below 2^63, found \(offsetItems.map(Self.describe))")
            }
            offsets.append(v)
        }
        guard offsets[0] <= offsets[1] else {
            throw .invalidEntry(file: source, tensor: name, reason: "'data_offsets' end \(offsets[1]) is before begin \(offsets[0])")
        }
        let spec = TensorSpec(name: name, dtype: dtype, shape: shape)
        guard let expected = spec.checkedByteCount else {
            throw .invalidShape(file: source, tensor: name, shape: shapeText, reason: "element or byte count overflows 64 bits")
        }
        let actual = offsets[1] - offsets[0]
        guard expected == actual else {
            throw .sizeMismatch(file: source, tensor: name, expected: expected, actual: actual)
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
    }

    private static func describe(_ v: JSONValue) -> String {
        if case let .number(n) = v { return n }
        return v.typeName
    }

    /// Sorts the tensors by offset and checks that they tile the data section; returns its size.
    private static func checkLayout(_ tensors: inout [TensorInfo], dataSize: Int64?,
                                    source: String) throws(SafetensorsError) -> Int64 {
        tensors.sort {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
                < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
        }
        if let dataSize, let beyond = tensors.first(where: { $0.dataOffsets.upperBound > dataSize }) {
            throw .offsetsOutsideData(file: source, tensor: beyond.name, end: beyond.dataOffsets.upperBound, dataSize: dataSize)
        }
        var expected: Int64 = 0
        var previous: TensorInfo?
        for t in tensors {
            if t.dataOffsets.lowerBound < expected {
                throw .overlappingOffsets(file: source, first: previous?.name ?? "?", second: t.name)
            }
            if t.dataOffsets.lowerBound > expected {
                throw .gapInData(file: source, after: previous?.name, before: t.name,
                                 gapStart: expected, gapEnd: t.dataOffsets.lowerBound)
            }
            expected = t.dataOffsets.upperBound
            previous = t
        }
        if let dataSize, expected != dataSize {
            throw .trailingData(file: source, covered: expected, dataSize: dataSize)
        }
        return expected
    }

    private enum ParsedInteger {
        case value(Int64), negative, tooLarge, notInteger
    }

    /// Parses JSON number text as a non-negative 64-bit integer (no fractions or exponents).
    private static func parseInteger(_ text: String) -> ParsedInteger {
        var digits = Substring(text)
        var negative = false
        if digits.first == "-" { negative = true; digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return .notInteger }
        if negative { return digits.allSatisfy({ $0 == "0" }) ? .value(0) : .negative }
        guard let v = Int64(digits) else { return .tooLarge }
        return .value(v)
    }
}
