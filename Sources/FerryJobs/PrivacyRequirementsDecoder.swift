/// Decodes `filters.privacy` of `policy.yaml` into ``PrivacyRequirements``.
struct PrivacyRequirementsDecoder {
    let context: YAMLContext

    func decode(_ privacy: FieldReader) -> PrivacyRequirements {
        privacy.checkKeys(["exclude", "dp-gaussian", "percentile"])
        var result = PrivacyRequirements()
        if privacy.keyMark("exclude") != nil {
            result.exclude = FilterChainDecoder.strings(privacy, "exclude", context: context, example: "\"lm_head.*\"") ?? []
        }
        if privacy.keyMark("dp-gaussian") != nil {
            var need = DPGaussianRequirement()
            if let d = privacy.nested("dp-gaussian") {
                d.checkKeys(["min_noise_multiplier", "max_clip"])
                need.minNoiseMultiplier = d.number("min_noise_multiplier", range: 0...1e6)
                need.maxClip = d.number("max_clip", range: 1e-9...1e9)
            }
            result.dpGaussian = need
        }
        if privacy.keyMark("percentile") != nil {
            var need = PercentileRequirement()
            if let p = privacy.nested("percentile") {
                p.checkKeys(["min_percentile", "max_gamma"])
                need.minPercentile = p.number("min_percentile", range: 0...100)
                need.maxGamma = p.number("max_gamma", range: 1e-9...1e9)
            }
            result.percentile = need
        }
        return result
    }
}
