/// Weighted means of client metrics, for a round's `aggregate` record (`metrics.json`).
public enum MetricsAverage {
    /// One client's report: how many samples it trained on, and its metrics.
    public struct Report: Sendable, Equatable {
        public var numSamples: Int
        public var metrics: [String: Double]

        public init(numSamples: Int, metrics: [String: Double]) {
            self.numSamples = numSamples
            self.metrics = metrics
        }
    }

    /// For each metric name, `Σ nᵢ·mᵢ / Σ nᵢ` over the clients that report it, with `nᵢ` their
    /// `num_samples`. When every client that reports a metric has 0 samples, its plain mean is used,
    /// so a metric is never dropped.
    public static func weighted(_ reports: [Report]) -> [String: Double] {
        var sums: [String: (weighted: Double, weight: Double, plain: Double, count: Double)] = [:]
        for report in reports {
            let n = Double(max(report.numSamples, 0))
            for (name, value) in report.metrics {
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
