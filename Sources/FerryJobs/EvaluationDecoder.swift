/// What a server app's `local_models:` may say (cross-site-eval).
enum LocalModelsSource: String, CaseIterable {
    /// Each site runs one train task from the global model; what it returns is its local model.
    case train
}

/// Decodes a server app's evaluation settings: `evaluate_every` (fedavg, fedopt, fedprox) and `local_models`
/// (cross-site-eval), and the rules `workflow: cross-site-eval` puts on `rounds` and `initial_model`.
struct EvaluationDecoder {
    static let keys = ["evaluate_every", "local_models"]

    let context: YAMLContext

    /// `evaluate_every`, checked against the workflow and `rounds`.
    func evaluateEvery(_ top: FieldReader, workflow: Workflow?, rounds: Int?) -> Int? {
        guard top.keyMark("evaluate_every") != nil else { return nil }
        let mark = top.value("evaluate_every")?.mark ?? top.keyMark("evaluate_every")
        guard let every = top.int("evaluate_every", range: 1...100_000) else { return nil }
        if let workflow, ![.fedavg, .fedopt, .fedprox].contains(workflow) {
            context.error("'evaluate_every' applies only to `workflow: fedavg`, `fedopt` and `fedprox`", at: top.keyMark("evaluate_every"),
                          hint: workflow == .crossSiteEval ? "remove it: cross-site-eval evaluates every model once"
                              : "remove 'evaluate_every' or switch to `workflow: fedavg`")
            return nil
        }
        if let rounds, every > rounds {
            context.error("'evaluate_every' is \(every) but the job runs \(rounds) round(s): no round would be evaluated", at: mark,
                          hint: "use a value from 1 to \(rounds) (rounds that are a multiple of it are evaluated)")
            return nil
        }
        return every
    }

    /// `local_models` (default `train`): false for `none`.
    func localModels(_ top: FieldReader, workflow: Workflow?, hasInitialModel: Bool) -> Bool {
        let given = top.keyMark("local_models") != nil
        let source = top.choice("local_models", LocalModelsSource.self, noneWord: "none")
        if given, let workflow, workflow != .crossSiteEval {
            context.error("'local_models' applies only to `workflow: cross-site-eval`", at: top.keyMark("local_models"),
                          hint: "remove 'local_models' or switch to `workflow: cross-site-eval`")
        }
        let local = !given || source != nil
        if workflow == .crossSiteEval, !local, !hasInitialModel {
            context.error("`local_models: none` leaves nothing to evaluate without `initial_model`", at: top.keyMark("local_models"),
                          hint: "add `initial_model: models/initial.safetensors` (the global model) or remove `local_models: none`")
        }
        return local
    }
}
