import Foundation
import FerrySupport

/// How the job store encodes its JSON files: ``JSONFile``'s coding (pretty-printed, keys sorted, dates as
/// ``Timestamp``s), with the store's typed errors.
public enum JobStoreCoding {
    /// The encoder used for `meta.json`, `state.json` and `abort.request`.
    public static func encoder() -> JSONEncoder { JSONFile.encoder() }

    /// The matching decoder (whole and fractional seconds).
    public static func decoder() -> JSONDecoder { JSONFile.decoder() }

    /// Encodes `value` and writes it atomically to `path` (with a final newline).
    public static func write<T: Encodable>(_ value: T, to path: String) throws(WorkspaceError) {
        do {
            try JSONFile.write(value, to: path)
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
