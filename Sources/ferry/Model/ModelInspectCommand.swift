import ArgumentParser
import FerryQuant
import FerrySupport
import FerryTensors

/// `ferry model inspect FILE`: tensors, dtypes, shapes, bytes, quantization info, totals.
struct ModelInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a safetensors file's tensors, dtypes, shapes and sizes, with quantization info.",
        discussion: """
        Reads only the header (any file size is fine) and prints one line per tensor: name, dtype, shape, \
        bytes. For a file written by `ferry model quantize` each quantized tensor also shows its format, \
        block size and the dtype and shape it is restored to; absmax tensors are marked. The last lines \
        give the totals and the `__metadata__` entries (ferry's own quantization keys are summarized).

        Examples:
          ferry model inspect model.safetensors
          ferry model inspect model.nf4.safetensors
          ferry model inspect model.safetensors --limit 0      # totals only
        """
    )

    @Argument(help: ArgumentHelp("The safetensors file.", valueName: "FILE"))
    var file: String

    @Option(help: "Show at most this many tensors (0: totals only).")
    var limit: Int = 1000

    func run() async throws {
        let reader = try SafetensorsReader(path: file)
        let header = reader.header
        let entries = QuantizedModelInspection(header: header)
        let shown = header.tensors.prefix(max(0, limit))
        let nameWidth = min(60, shown.map(\.name.count).max() ?? 4)
        for t in shown {
            var line = t.name.padding(nameWidth) + "  " + t.dtype.rawValue.padding(5) + "  "
                + ("[" + t.shape.map(String.init).joined(separator: ", ") + "]").padding(16) + "  "
                + ByteCount.format(t.byteCount).leftPadding(11)
            if let note = entries.note(for: t.name) { line += "  " + note }
            print(line)
        }
        if header.tensors.count > shown.count {
            print("… \(header.tensors.count - shown.count) more tensors (use --limit)")
        }
        print("tensors: \(header.tensors.count), values: \(header.elementCount), data: \(ByteCount.format(header.dataByteCount)) "
              + "(\(header.dataByteCount) bytes), header: \(header.headerByteCount) bytes, file: \(reader.fileSize) bytes")
        if let summary = entries.summary { print(summary) }
        for key in header.metadata.keys.sorted() where !key.hasPrefix(QuantizedModelKeys.tensorKeyPrefix) {
            print("metadata: \(key) = \(header.metadata[key]!)")
        }
    }
}

/// The quantization notes of a header, per tensor.
struct QuantizedModelInspection {
    private var entries: [String: QuantizedTensorEntry] = [:]
    /// Absmax tensors (plain, or the three of a double-quantized tensor) → their note.
    private var absmaxNotes: [String: String] = [:]
    private let format: String?
    private var restoredBytes: Int64 = 0

    init(header: SafetensorsHeader) {
        format = header.metadata[QuantizedModelKeys.formatKey]
        for (key, value) in header.metadata where key.hasPrefix(QuantizedModelKeys.tensorKeyPrefix) {
            let name = String(key.dropFirst(QuantizedModelKeys.tensorKeyPrefix.count))
            guard let entry = QuantizedTensorEntry(jsonText: value) else { continue }
            entries[name] = entry
            if let a = entry.absmax { absmaxNotes[a] = "absmax of \(name)" + (entry.format.isDoubleQuantized ? " (8-bit codes)" : "") }
            if let a = entry.absmaxScales { absmaxNotes[a] = "absmax scales of \(name)" }
            if let a = entry.absmaxOffset { absmaxNotes[a] = "absmax offset of \(name)" }
        }
        for t in header.tensors where absmaxNotes[t.name] == nil {
            if let e = entries[t.name], let n = e.elementCount {
                restoredBytes += n * Int64(e.sourceDType.byteSize)
            } else {
                restoredBytes += t.byteCount
            }
        }
    }

    func note(for name: String) -> String? {
        if let note = absmaxNotes[name] { return note }
        guard let e = entries[name] else { return nil }
        let block = e.blockSize.map { ", block \($0)" } ?? ""
        return "\(e.format.rawValue)\(block) ← \(e.sourceDType.rawValue) [\(e.shape.map(String.init).joined(separator: ", "))]"
    }

    var summary: String? {
        guard let format else { return nil }
        return "quantized: \(format), \(entries.count) tensors; restores to \(ByteCount.format(restoredBytes)) of data"
    }
}

extension String {
    /// Pads with spaces on the right to `width` characters.
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    /// Pads with spaces on the left to `width` characters.
    func leftPadding(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
