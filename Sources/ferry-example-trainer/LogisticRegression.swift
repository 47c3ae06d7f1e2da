import FerrySupport
/// A logistic-regression model: `p(y = 1 | x) = sigmoid(weight · x + bias)`.
struct LogisticModel: Equatable {
    var weight: [Double]
    var bias: Double

    static func zero(features: Int) -> LogisticModel {
        LogisticModel(weight: [Double](repeating: 0, count: features), bias: 0)
    }

    /// Mean binary cross-entropy and accuracy on `data`.
    func evaluate(on data: SiteDataset) -> (loss: Double, accuracy: Double) {
        guard data.count > 0 else { return (0, 0) }
        var loss = 0.0
        var correct = 0
        let f = data.features
        for i in 0..<data.count {
            var z = bias
            for j in 0..<f { z += weight[j] * data.x[i * f + j] }
            let y = data.y[i]
            // log(1 + e^z) - y z, computed stably.
            let softplus = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
            loss += softplus - y * z
            if (z >= 0 ? 1.0 : 0.0) == y { correct += 1 }
        }
        return (loss / Double(data.count), Double(correct) / Double(data.count))
    }

    /// Full-batch gradient descent on the mean cross-entropy for `epochs` steps.
    mutating func train(on data: SiteDataset, epochs: Int, learningRate: Double) {
        let n = data.count, f = data.features
        guard n > 0 else { return }
        var gradW = [Double](repeating: 0, count: f)
        for _ in 0..<epochs {
            for j in 0..<f { gradW[j] = 0 }
            var gradB = 0.0
            for i in 0..<n {
                var z = bias
                for j in 0..<f { z += weight[j] * data.x[i * f + j] }
                let err = sigmoid(z) - data.y[i]
                for j in 0..<f { gradW[j] += err * data.x[i * f + j] }
                gradB += err
            }
            let step = learningRate / Double(n)
            for j in 0..<f { weight[j] -= step * gradW[j] }
            bias -= step * gradB
        }
    }
}
