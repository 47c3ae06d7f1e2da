/// What a filter did to a result, as the server records it for privacy accounting (the `ferry.filters`
/// metadata of a result, and `filters` of each client in a round record). It holds nothing that
/// depends on the site's data: no norm, no cutoff, no seed value.
public struct AppliedFilter: Sendable, Equatable, Codable {
    /// `exclude`, `dp-gaussian` or `percentile`.
    public var name: String
    /// exclude: the patterns.
    public var patterns: [String]?
    /// exclude: how many tensors were left out.
    public var excludedTensors: Int?
    /// dp-gaussian: C.
    public var clip: Double?
    /// dp-gaussian: z.
    public var noiseMultiplier: Double?
    /// dp-gaussian: the standard deviation of the noise, z·C.
    public var noiseStd: Double?
    /// dp-gaussian: `job` (the job fixed the seed: whoever knows it can remove the noise) or `site`
    /// (drawn at the site, never sent).
    public var seedSource: String?
    /// dp-gaussian, percentile: the values the filter covered.
    public var values: Int64?
    /// percentile: the percentile and gamma.
    public var percentile: Double?
    public var gamma: Double?

    /// Creates a record of the filter `name`.
    public init(name: String) { self.name = name }

    enum CodingKeys: String, CodingKey {
        case name, patterns, clip, percentile, gamma, values
        case excludedTensors = "excluded_tensors"
        case noiseMultiplier = "noise_multiplier"
        case noiseStd = "noise_std"
        case seedSource = "seed_source"
    }
}
