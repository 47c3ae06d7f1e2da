import Foundation

/// Reading and atomically writing the small JSON files ferry keeps its state in: sorted keys,
/// indented, dates as ``Timestamp``s.
public enum JSONFile {
    /// The encoder of state files.
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = Timestamp.encodingStrategy
        return e
    }

    /// The decoder of state files.
    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = Timestamp.decodingStrategy
        return d
    }

    /// Decodes `path`; throws when it is missing or malformed.
    public static func read<T: Decodable>(_ type: T.Type, from path: String) throws(SupportError) -> T {
        let bytes = try FileSystem.read(path)
        do {
            return try decoder().decode(T.self, from: Data(bytes))
        } catch {
            throw .malformed(path: path, reason: "not valid JSON for this file: \(error)")
        }
    }

    /// Decodes `path`, or returns nil when the file does not exist.
    public static func readIfPresent<T: Decodable>(_ type: T.Type, from path: String) throws(SupportError) -> T? {
        guard let bytes = try FileSystem.readIfPresent(path) else { return nil }
        do {
            return try decoder().decode(T.self, from: Data(bytes))
        } catch {
            throw .malformed(path: path, reason: "not valid JSON for this file: \(error)")
        }
    }

    /// Encodes `value` and writes it atomically to `path` (temp file, fsync, rename).
    public static func write<T: Encodable>(_ value: T, to path: String) throws {
        var data = try encoder().encode(value)
        data.append(0x0A)
        try AtomicFile.write(data, to: path)
    }
}
