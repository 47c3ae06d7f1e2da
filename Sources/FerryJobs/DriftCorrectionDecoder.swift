import Yams

/// Decodes the keys of the workflows that correct the clients' drift from the global model: fedprox's
/// `mu` and scaffold's `server_lr`, and refuses the settings that do not go with them.
struct DriftCorrectionDecoder {
    static let keys = ["mu", "server_lr"]
    static let muConfigKey = Workflow.fedproxMuKey

    let context: YAMLContext

    func decode(_ top: FieldReader, workflow: Workflow?,
                initialModel: String?) -> (mu: Double?, serverLearningRate: Double?) {
        let mu = top.number("mu", range: 0...1e6, required: workflow == .fedprox ? "add the proximal weight, e.g. `mu: 0.01`" : nil)
        if workflow != .fedprox, let mark = top.keyMark("mu") {
            context.error("'mu' applies only to `workflow: fedprox`", at: mark, hint: "remove 'mu' or set `workflow: fedprox`")
        }
        if workflow == .fedprox, let mark = top.nested("round_config")?.keyMark(Self.muConfigKey) {
            context.error("'round_config.\(Self.muConfigKey)' is set by fedprox from `mu`", at: mark,
                          hint: "remove it from round_config and set `mu:` in the server app")
        }
        let serverLR = top.number("server_lr", range: 1e-12...1e6)
        if workflow != .scaffold, let mark = top.keyMark("server_lr") {
            context.error("'server_lr' applies only to `workflow: scaffold`", at: mark,
                          hint: "remove 'server_lr' (fedopt's step size is `server_optimizer.lr`) or set `workflow: scaffold`")
        }
        if workflow == .scaffold {
            for key in ["aggregator", "trim", "max_update_norm"] where top.keyMark(key) != nil {
                context.error("'\(key)' does not apply to `workflow: scaffold`, which averages the updates and the control variates",
                              at: top.keyMark(key), hint: "remove '\(key)' or switch to `workflow: fedavg`")
            }
            if initialModel == nil {
                context.error("`workflow: scaffold` needs `initial_model`: the control variates take its tensors' shapes",
                              at: top.keyMark("workflow"), hint: "add `initial_model: models/initial.safetensors`")
            }
        }
        return (mu, serverLR)
    }
}

extension Workflow {
    /// The round-config key fedprox sends `mu` as (`task.config["fedprox_mu"]` in ferry's Python package).
    public static let fedproxMuKey = "fedprox_mu"
}
