import Foundation
import FerrySupport

/// How the job store encodes its JSON files: pretty-printed, keys sorted, dates as ISO 8601 (UTC, seconds).
public enum JobStoreCoding {
    /// The encoder used for `meta.json`, `state.json` and `abort.request`.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.string(date))
        }
        return encoder
    }

    /// The matching decoder (accepts fractional seconds too).
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.date(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date: \(text)")
            }
            return date
        }
        return decoder
    }

    /// Encodes `value` and writes it atomically to `path` (with a final newline).
    public static func write<T: Encodable>(_ value: T, to path: String) throws(WorkspaceError) {
        do {
            var data = try encoder().encode(value)
            data.append(0x0A)
            try AtomicFile.write(data, to: path)
        } catch {
            throw .io(path: path, operation: "write", reason: "\(error)")
        }
    }

    /// Reads and decodes a JSON file; `id` names the job in errors.
    public static func read<T: Decodable>(_ type: T.Type, from path: String, id: String) throws(WorkspaceError) -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .corruptJob(id: id, reason: "\(URL(fileURLWithPath: path).lastPathComponent) is missing")
        }
        do {
            return try decoder().decode(type, from: data)
        } catch {
            throw .corruptJob(id: id, reason: "\(URL(fileURLWithPath: path).lastPathComponent) cannot be decoded: \(error)")
        }
    }
}

/// The contents of `abort.request`.
public struct AbortRequest: Codable, Sendable, Equatable {
    /// When the abort was requested.
    public var requestedAt: Date
    /// Who asked (`ferry abort` writes `cli`).
    public var by: String

    /// Creates a request.
    public init(requestedAt: Date = Date(), by: String = "cli") {
        self.requestedAt = requestedAt
        self.by = by
    }

    enum CodingKeys: String, CodingKey {
        case requestedAt = "requested_at"
        case by
    }
}
