import Yams

/// `executor.persistent` and `executor.restarts`.
extension AppYAMLDecoder {
    func decodePersistent(_ e: FieldReader, into config: inout ExecutorConfig) {
        let restarts = e.int("restarts", range: 0...100)
        guard let node = e.value("persistent"), let text = e.scalarText(node, key: "persistent", expected: "true or false") else {
            if e.keyMark("restarts") != nil {
                context.error("'executor.restarts' applies only to `persistent: true`", at: e.keyMark("restarts"),
                              hint: "add `persistent: true` to the executor, or remove 'restarts'")
            }
            return
        }
        switch text {
        case "true", "True", "TRUE", "yes": break
        case "false", "False", "FALSE", "no":
            if e.keyMark("restarts") != nil {
                context.error("'executor.restarts' applies only to `persistent: true`", at: e.keyMark("restarts"),
                              hint: "set `persistent: true`, or remove 'restarts'")
            }
            return
        default:
            context.error("'executor.persistent' must be true or false, found '\(text)'", at: node.mark,
                          hint: "write `persistent: true` to run one executor process for all the job's tasks")
            return
        }
        if config.launcher != .local {
            context.error("`persistent: true` works only with the local launcher, not with `launcher: \(config.launcher.rawValue)`",
                          at: e.keyMark("persistent"),
                          hint: "remove `persistent: true` (each Slurm task is a batch job of its own), or use `launcher: local`")
        }
        let allowed = PersistentExecutorSettings.placeholders
        let texts = config.command + config.env.keys.sorted().compactMap { config.env[$0] }
        for name in Set(texts.flatMap { Placeholders.references(in: $0) }).sorted()
        where !allowed.contains(name) && Placeholders.names.contains(name) {
            context.error("a persistent executor cannot use the task placeholder '{\(name)}' in its command or env: "
                          + "it runs for every task of the job", at: e.keyMark("persistent"),
                          hint: "read the task's values from each request (ferry.receive() in Python; docs/executor-contract.md); "
                          + "placeholders a persistent executor may use: " + allowed.map { "{\($0)}" }.joined(separator: ", "))
        }
        config.persistent = PersistentExecutorSettings(restarts: restarts ?? PersistentExecutorSettings.defaultRestarts)
    }
}
