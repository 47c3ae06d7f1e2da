import Foundation

/// The result file an executor writes: `{"num_samples": 120, "metrics": {"loss": 0.41}}`.
public struct ExecutorResult: Sendable, Equatable, Codable {
    /// How many samples the client trained on: the client's weight in FedAvg. `>= 0`.
    public var numSamples: Int
    /// Named numeric metrics (loss, accuracy, …); may be empty.
    public var metrics: [String: Double]

    /// Creates a result.
    public init(numSamples: Int, metrics: [String: Double] = [:]) {
        self.numSamples = numSamples
        self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey {
        case numSamples = "num_samples"
        case metrics
    }

    /// Reads and validates the result file at `path`.
    /// - Throws: ``ExecutorFailure/missingResult(path:)`` or ``ExecutorFailure/invalidResult(path:reason:)``.
    public static func load(path: String) throws(ExecutorFailure) -> ExecutorResult {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingResult(path: path) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .invalidResult(path: path, reason: "cannot read it: \(error.localizedDescription)")
        }
        return try parse(data, path: path)
    }

    /// Parses and validates result JSON; `path` names the file in errors.
    public static func parse(_ data: Data, path: String) throws(ExecutorFailure) -> ExecutorResult {
        guard data.count <= 16 << 20 else {
            throw .invalidResult(path: path, reason: "it is larger than 16 MiB")
        }
        let raw: RawResult
        do {
            raw = try JSONDecoder().decode(RawResult.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalidResult(path: path, reason: "the field \"\(fieldPath(context.codingPath + [key]))\" is missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .invalidResult(path: path, reason: "\"\(fieldPath(context.codingPath))\" must be "
                                 + (context.codingPath.count <= 1 && context.codingPath.first?.stringValue == "metrics"
                                    ? "an object of names to numbers" : "a number"))
        } catch let DecodingError.valueNotFound(_, context) {
            throw .invalidResult(path: path, reason: "\"\(fieldPath(context.codingPath))\" must not be null")
        } catch {
            throw .invalidResult(path: path, reason: "it is not a JSON object like {\"num_samples\": 120, \"metrics\": {\"loss\": 0.4}}")
        }
        let samples = raw.num_samples
        guard samples.isFinite, samples >= 0, samples <= 1e15, samples.rounded() == samples else {
            throw .invalidResult(path: path, reason: "\"num_samples\" must be a whole number >= 0, found \(samples)")
        }
        let metrics = raw.metrics ?? [:]
        for (name, value) in metrics where !value.isFinite {
            throw .invalidResult(path: path, reason: "metric \"\(name)\" must be a finite number, found \(value)")
        }
        return ExecutorResult(numSamples: Int(samples), metrics: metrics)
    }

    private struct RawResult: Decodable {
        var num_samples: Double
        var metrics: [String: Double]?
    }

    private static func fieldPath(_ path: [any CodingKey]) -> String {
        path.map { $0.stringValue }.joined(separator: ".")
    }
}
