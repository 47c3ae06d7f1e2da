/// A filter a site applies to its update before the result leaves the site (docs/filters.md).
/// Filters run in the order the job lists them, each on what the previous one left, and before any
/// quantization of the result.
public enum PrivacyFilter: Sendable, Equatable, Codable {
    /// Tensors whose names match one of these globs (fnmatch(3) without flags) are never sent.
    case exclude([String])
    /// Clip the update's L2 norm over all tensors, then add Gaussian noise (DP-SGD style, per round).
    case dpGaussian(DPGaussianSettings)
    /// NVFlare's PercentilePrivacy: share only the update entries above a percentile of |delta|,
    /// clipped to gamma.
    case percentile(PercentileSettings)

    /// The filter's word in `app.yaml` and in records: `exclude`, `dp-gaussian`, `percentile`.
    public var name: String {
        switch self {
        case .exclude: return "exclude"
        case .dpGaussian: return "dp-gaussian"
        case .percentile: return "percentile"
        }
    }

    /// The filter and its settings in words (`dp-gaussian clip 1.0, noise_multiplier 1.1`).
    public var summary: String {
        switch self {
        case .exclude(let patterns):
            return "exclude " + patterns.joined(separator: ", ")
        case .dpGaussian(let s):
            return "dp-gaussian clip \(s.clip), noise_multiplier \(s.noiseMultiplier)" + (s.seed == nil ? "" : ", seed fixed by the job")
        case .percentile(let s):
            return "percentile \(s.percentile), gamma \(s.gamma)"
        }
    }

    /// Whether the filter changes values (needs the global model the update is measured from).
    public var needsReference: Bool {
        if case .exclude = self { return false }
        return true
    }
}

/// The settings of `dp-gaussian`.
public struct DPGaussianSettings: Sendable, Equatable, Codable {
    /// C: the largest L2 norm of the update (model − global model) over all tensors that are sent.
    public var clip: Double
    /// z: the noise is N(0, (z·C)²) per value.
    public var noiseMultiplier: Double
    /// The seed of the noise; nil draws a fresh one at the site for every result (recorded at the site
    /// only). A seed the job fixes is known to the job's author, who can regenerate and remove the noise.
    public var seed: UInt64?

    /// Creates settings.
    public init(clip: Double, noiseMultiplier: Double, seed: UInt64? = nil) {
        self.clip = clip
        self.noiseMultiplier = noiseMultiplier
        self.seed = seed
    }
}

/// The settings of `percentile`.
public struct PercentileSettings: Sendable, Equatable, Codable {
    /// 0–100: entries whose |delta| is below this percentile of all |delta| are not shared.
    public var percentile: Double
    /// > 0: shared deltas are clipped to [−gamma, gamma].
    public var gamma: Double

    /// Creates settings.
    public init(percentile: Double, gamma: Double) {
        self.percentile = percentile
        self.gamma = gamma
    }
}
