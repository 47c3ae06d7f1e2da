import FerryAggregation
import Yams

/// The aggregation word of a server app (`aggregator:`).
public enum AggregatorName: String, Sendable, Equatable, CaseIterable {
    case mean, median
    case trimmedMean = "trimmed-mean"
}

/// Decodes a server app's aggregation settings: `aggregator`, `trim`, `max_update_norm` and
/// `server_optimizer` (fedopt only).
struct StrategyDecoder {
    static let keys = ["aggregator", "trim", "max_update_norm", "server_optimizer"]
    static let optimizerKeys = ["name", "lr", "momentum", "betas", "eps"]

    let context: YAMLContext

    func aggregation(_ top: FieldReader) -> RobustAggregation {
        let name = top.choice("aggregator", AggregatorName.self) ?? .mean
        let trim = top.int("trim", range: 1...10_000)
        var rule = AggregatorRule.mean
        switch name {
        case .mean: rule = .mean
        case .median: rule = .median
        case .trimmedMean:
            if trim == nil, top.keyMark("trim") == nil {
                context.error("`aggregator: trimmed-mean` needs `trim`", at: top.keyMark("aggregator"),
                              hint: "add `trim: 1` (values dropped at each end, per element)")
            }
            rule = .trimmedMean(trim: trim ?? 1)
        }
        if name != .trimmedMean, let mark = top.keyMark("trim") {
            context.error("'trim' applies only to `aggregator: trimmed-mean`", at: mark,
                          hint: "remove 'trim' or set `aggregator: trimmed-mean`")
        }
        let bound = top.number("max_update_norm", range: 1e-12...1e12)
        return RobustAggregation(rule: rule, maxUpdateNorm: bound)
    }

    func optimizer(_ top: FieldReader, workflow: Workflow?) -> ServerOptimizer? {
        guard let o = top.nested("server_optimizer") else {
            if workflow == .fedopt {
                context.error("`workflow: fedopt` needs `server_optimizer`", at: top.keyMark("workflow"),
                              hint: "add `server_optimizer: {name: adam, lr: 0.01}`")
            }
            return nil
        }
        if workflow != .fedopt {
            context.error("'server_optimizer' applies only to `workflow: fedopt`", at: top.keyMark("server_optimizer"),
                          hint: "remove it or set `workflow: fedopt`")
        }
        o.checkKeys(Self.optimizerKeys)
        let name = o.choice("name", ServerOptimizer.Name.self, required: "add `name: sgd`, `adam`, `yogi` or `adagrad`")
        let lr = o.number("lr", range: 1e-12...1e6, required: "add the server learning rate, e.g. `lr: 0.01`")
        let momentum = o.number("momentum", range: 0...0.999_999)
        if momentum != nil, name != .sgd {
            context.error("'server_optimizer.momentum' applies only to `name: sgd`", at: o.keyMark("momentum"),
                          hint: "use `betas: [0.9, 0.99]` for adam, yogi and adagrad")
        }
        var betas: [Double]? = nil
        if let node = o.value("betas") {
            let values = node.sequence?.compactMap { $0.scalar.flatMap { Double($0.string) } } ?? []
            if values.count != 2 || values.contains(where: { !(0..<1).contains($0) }) {
                context.error("'server_optimizer.betas' must be two numbers in [0, 1), e.g. `[0.9, 0.99]`", at: node.mark,
                              hint: "write `betas: [0.9, 0.99]`")
            } else {
                betas = values
            }
        }
        let eps = o.number("eps", range: 1e-12...1)
        guard let name, let lr else { return nil }
        return ServerOptimizer(name: name, lr: lr, momentum: momentum ?? 0, beta1: betas?[0],
                               beta2: betas?[1] ?? 0.99, eps: eps ?? 1e-3)
    }
}
