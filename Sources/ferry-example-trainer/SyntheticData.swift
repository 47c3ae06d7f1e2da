import FerrySupport

extension SplitMix64 {
    /// Standard normal (Box–Muller; one value per call keeps the stream simple).
    mutating func normal() -> Double {
        let u1 = max(uniform(), 0x1.0p-53)
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// One site's training data: a row-major feature matrix and 0/1 labels.
struct SiteDataset {
    var features: Int
    var x: [Double]
    var y: [Double]

    var count: Int { y.count }
}

/// The synthetic federation: a fixed true logistic model and, per site, a differently shifted
/// two-component Gaussian mixture of inputs labelled by that model (with Bernoulli label noise).
struct SyntheticFederation {
    var features: Int
    var seed: UInt64

    /// The true weights and bias every site's labels come from.
    var trueModel: (weight: [Double], bias: Double) {
        var rng = SplitMix64(seed: seed, stream: "true-model")
        let scale = 2.5 / Double(features).squareRoot()
        let w = (0..<features).map { _ in rng.normal() * scale }
        return (w, 0.3 * rng.normal())
    }

    /// The site's index: the number at the end of its name (`site-3` → 3), otherwise a stable
    /// hash of the name in 1...8.
    static func siteIndex(_ site: String) -> Int {
        let digits = site.reversed().prefix { $0.isNumber }
        if !digits.isEmpty, let n = Int(String(digits.reversed())), n >= 0, n < 1_000_000 { return n }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in site.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int(h % 8) + 1
    }

    /// Number of samples at a site: 60 + 40 × index, so sites weigh differently in FedAvg.
    static func sampleCount(site: String) -> Int {
        60 + 40 * (siteIndex(site) % 10)
    }

    /// The site's dataset (deterministic from `site` and `seed`).
    func dataset(site: String) -> SiteDataset {
        let n = Self.sampleCount(site: site)
        let truth = trueModel
        var rng = SplitMix64(seed: seed, stream: "site-\(Self.siteIndex(site))")
        // The site's shift and its two mixture components.
        let shift = (0..<features).map { _ in rng.normal() * 0.8 }
        let components = (0..<2).map { _ in (0..<features).map { _ in rng.normal() * 0.7 } }
        var x = [Double](repeating: 0, count: n * features)
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let c = rng.uniform() < 0.5 ? 0 : 1
            var logit = truth.bias
            for j in 0..<features {
                let v = shift[j] + components[c][j] + rng.normal()
                x[i * features + j] = v
                logit += truth.weight[j] * v
            }
            y[i] = rng.uniform() < sigmoid(logit) ? 1 : 0
        }
        return SiteDataset(features: features, x: x, y: y)
    }
}

@inline(__always)
func sigmoid(_ z: Double) -> Double {
    z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
}
