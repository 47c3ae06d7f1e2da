/// Weighted means of client metrics, for a round's `aggregate` record.
public enum MetricsAverage {
    /// For each metric name, `Σ nᵢ·mᵢ / Σ nᵢ` over the clients that report it, with `nᵢ` their
    /// `num_samples`. When every reporting client has 0 samples, the plain mean is used.
    public static func weighted(_ results: [ExecutorResult]) -> [String: Double] {
        var sums: [String: (weighted: Double, weight: Double, plain: Double, count: Double)] = [:]
        for result in results {
            let n = Double(result.numSamples)
            for (name, value) in result.metrics {
                var s = sums[name] ?? (0, 0, 0, 0)
                s.weighted += n * value
                s.weight += n
                s.plain += value
                s.count += 1
                sums[name] = s
            }
        }
        return sums.mapValues { $0.weight > 0 ? $0.weighted / $0.weight : $0.plain / $0.count }
    }
}
