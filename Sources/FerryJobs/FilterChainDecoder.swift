import FerryQuant
import FerryTransfer
import Yams

/// Decodes a client app's `filters.to_server`: a quantization word as before (`nf4`, `none`), or a list
/// of filters applied in order, quantization last (docs/filters.md):
///
/// ```yaml
/// filters:
///   to_server:
///     - exclude: ["lm_head.*"]
///     - dp-gaussian: {clip: 1.0, noise_multiplier: 1.1}
///     - percentile: {percentile: 90, gamma: 0.01}
///     - quantize: nf4
/// ```
struct FilterChainDecoder {
    static let itemKeys = ["exclude", "dp-gaussian", "percentile", "quantize"]
    let context: YAMLContext

    /// The quantization and the privacy filters of `filters` (a reader of the `filters:` mapping).
    func decode(_ filters: FieldReader) -> (quantize: QuantFormat?, privacy: [PrivacyFilter]) {
        guard let node = filters.value("to_server") else { return (nil, []) }
        guard case .sequence(let items) = node else {
            return (filters.choice("to_server", QuantFormat.self, noneWord: "none"), [])
        }
        var quantize: QuantFormat?
        var privacy: [PrivacyFilter] = []
        for (index, item) in items.enumerated() {
            let path = "filters.to_server[\(index)]"
            guard let reader = FieldReader.of(item, path: path, context: context) else { continue }
            reader.checkKeys(Self.itemKeys)
            guard reader.mapping.count == 1, let key = reader.mapping.first?.key.scalar?.string,
                  Self.itemKeys.contains(key) else {
                if reader.mapping.count != 1 {
                    context.error("each entry of 'filters.to_server' is one filter, found \(reader.mapping.count) keys", at: item.mark,
                                  hint: "write one `- NAME: SETTINGS` line per filter, e.g. `- exclude: [\"lm_head.*\"]`")
                }
                continue
            }
            if quantize != nil {
                context.error("'quantize' must be the last entry of 'filters.to_server'", at: reader.keyMark(key),
                              hint: "move `- quantize: …` to the end: filters run on the update, then the result is quantized")
            }
            switch key {
            case "quantize":
                quantize = reader.choice("quantize", QuantFormat.self, required: "write e.g. `- quantize: nf4`")
            case "exclude":
                if let patterns = Self.strings(reader, "exclude", context: context, example: "\"lm_head.*\"") { privacy.append(.exclude(patterns)) }
            case "dp-gaussian":
                guard let settings = reader.nested("dp-gaussian") else {
                    context.error("'dp-gaussian' needs its settings", at: reader.keyMark(key),
                                  hint: "write `- dp-gaussian: {clip: 1.0, noise_multiplier: 1.1}`")
                    continue
                }
                settings.checkKeys(["clip", "noise_multiplier", "seed"])
                let clip = settings.number("clip", range: 1e-9...1e9, required: "add `clip: 1.0` (the largest L2 norm of the update)")
                let z = settings.number("noise_multiplier", range: 0...1e6, required: "add `noise_multiplier: 1.1` (noise std = noise_multiplier × clip)")
                let seed = settings.uint64("seed")
                if let clip, let z { privacy.append(.dpGaussian(DPGaussianSettings(clip: clip, noiseMultiplier: z, seed: seed))) }
            default:
                guard let settings = reader.nested("percentile") else {
                    context.error("'percentile' needs its settings", at: reader.keyMark(key),
                                  hint: "write `- percentile: {percentile: 90, gamma: 0.01}`")
                    continue
                }
                settings.checkKeys(["percentile", "gamma"])
                let p = settings.number("percentile", range: 0...100, required: "add `percentile: 90` (share only |delta| above this percentile)")
                let gamma = settings.number("gamma", range: 1e-9...1e9, required: "add `gamma: 0.01` (shared deltas are clipped to ±gamma)")
                if let p, let gamma { privacy.append(.percentile(PercentileSettings(percentile: p, gamma: gamma))) }
            }
        }
        return (quantize, privacy)
    }

    /// A non-empty list of non-empty strings under `key` (one string counts as a list of one).
    static func strings(_ reader: FieldReader, _ key: String, context: YAMLContext, example: String) -> [String]? {
        guard let node = reader.value(key) else {
            context.error("'\(reader.qualified(key))' is empty", at: reader.keyMark(key), hint: "list tensor-name patterns, e.g. `\(key): [\(example)]`")
            return nil
        }
        let entries: [Node]
        switch node {
        case .sequence(let sequence): entries = Array(sequence)
        case .scalar: entries = [node]
        default:
            context.error("'\(reader.qualified(key))' must be a list of patterns, found \(FieldReader.describe(node))", at: node.mark,
                          hint: "write `\(key): [\(example)]`")
            return nil
        }
        var result: [String] = []
        for entry in entries {
            guard let text = entry.scalar?.string, !text.isEmpty else {
                context.error("'\(reader.qualified(key))' entries must be non-empty strings, found \(FieldReader.describe(entry))", at: entry.mark,
                              hint: "quote the pattern, e.g. \(example)")
                continue
            }
            result.append(text)
        }
        if result.isEmpty && entries.isEmpty {
            context.error("'\(reader.qualified(key))' lists no pattern", at: node.mark, hint: "write `\(key): [\(example)]`")
            return nil
        }
        return result
    }
}
