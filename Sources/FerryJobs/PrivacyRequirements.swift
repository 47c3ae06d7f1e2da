import FerryTransfer

/// `filters.privacy` of `policy.yaml`: the privacy filters a job must apply to this site's results
/// (docs/policy.md, docs/filters.md).
public struct PrivacyRequirements: Sendable, Equatable {
    /// Patterns the job's `exclude` filters must list (each written exactly so).
    public var exclude: [String] = []
    /// `dp-gaussian:` present: the job must noise its results; with these bounds.
    public var dpGaussian: DPGaussianRequirement?
    /// `percentile:` present: the job must apply percentile privacy; with these bounds.
    public var percentile: PercentileRequirement?

    /// Creates requirements.
    public init(exclude: [String] = [], dpGaussian: DPGaussianRequirement? = nil, percentile: PercentileRequirement? = nil) {
        self.exclude = exclude
        self.dpGaussian = dpGaussian
        self.percentile = percentile
    }

    /// What the job's filters lack, one sentence each; empty when they satisfy the requirements.
    public func shortfalls(of filters: [PrivacyFilter]) -> [String] {
        var found: [String] = []
        let excluded = filters.flatMap { filter -> [String] in
            if case .exclude(let patterns) = filter { return patterns }
            return []
        }
        let missing = exclude.filter { !excluded.contains($0) }
        if !missing.isEmpty {
            found.append("the job does not exclude \(missing.map { "'\($0)'" }.joined(separator: ", ")) (its exclude patterns: \(excluded.isEmpty ? "none" : excluded.map { "'\($0)'" }.joined(separator: ", ")))")
        }
        if let need = dpGaussian {
            let offered = filters.compactMap { filter -> DPGaussianSettings? in
                if case .dpGaussian(let s) = filter { return s }
                return nil
            }
            if offered.isEmpty {
                found.append("the job sends results without dp-gaussian; this site requires it\(need.summary)")
            }
            for s in offered {
                if let z = need.minNoiseMultiplier, s.noiseMultiplier < z {
                    found.append("the job's dp-gaussian has noise_multiplier \(s.noiseMultiplier); this site requires at least \(z)")
                }
                if let c = need.maxClip, s.clip > c {
                    found.append("the job's dp-gaussian has clip \(s.clip); this site allows at most \(c)")
                }
                if s.seed != nil {
                    found.append("the job's dp-gaussian fixes its seed, so whoever knows the job can regenerate and remove the noise; remove `seed` (the site then draws its own)")
                }
            }
        }
        if let need = percentile {
            let offered = filters.compactMap { filter -> PercentileSettings? in
                if case .percentile(let s) = filter { return s }
                return nil
            }
            if offered.isEmpty {
                found.append("the job sends results without percentile; this site requires it\(need.summary)")
            }
            for s in offered {
                if let p = need.minPercentile, s.percentile < p {
                    found.append("the job's percentile filter shares entries above percentile \(s.percentile); this site requires at least \(p)")
                }
                if let g = need.maxGamma, s.gamma > g {
                    found.append("the job's percentile filter has gamma \(s.gamma); this site allows at most \(g)")
                }
            }
        }
        return found
    }
}

/// `filters.privacy.dp-gaussian` of `policy.yaml`.
public struct DPGaussianRequirement: Sendable, Equatable {
    /// The least noise multiplier a job may use (`min_noise_multiplier`).
    public var minNoiseMultiplier: Double?
    /// The largest clip norm a job may use (`max_clip`).
    public var maxClip: Double?

    /// Creates a requirement.
    public init(minNoiseMultiplier: Double? = nil, maxClip: Double? = nil) {
        self.minNoiseMultiplier = minNoiseMultiplier
        self.maxClip = maxClip
    }

    var summary: String {
        let parts = [minNoiseMultiplier.map { "noise_multiplier ≥ \($0)" }, maxClip.map { "clip ≤ \($0)" }].compactMap { $0 }
        return parts.isEmpty ? "" : " with " + parts.joined(separator: ", ")
    }
}

/// `filters.privacy.percentile` of `policy.yaml`.
public struct PercentileRequirement: Sendable, Equatable {
    /// The least percentile a job may use (`min_percentile`).
    public var minPercentile: Double?
    /// The largest gamma a job may use (`max_gamma`).
    public var maxGamma: Double?

    /// Creates a requirement.
    public init(minPercentile: Double? = nil, maxGamma: Double? = nil) {
        self.minPercentile = minPercentile
        self.maxGamma = maxGamma
    }

    var summary: String {
        let parts = [minPercentile.map { "percentile ≥ \($0)" }, maxGamma.map { "gamma ≤ \($0)" }].compactMap { $0 }
        return parts.isEmpty ? "" : " with " + parts.joined(separator: ", ")
    }
}
