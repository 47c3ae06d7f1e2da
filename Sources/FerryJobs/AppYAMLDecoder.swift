import FerryQuant
import FerryTransfer
import Foundation
import Yams

/// Decodes an `app.yaml` into an ``AppConfig``, reporting every problem to the context.
struct AppYAMLDecoder {
    static let serverKeys = ["workflow", "rounds", "round_timeout", "min_clients", "initial_model", "order", "seed",
                             "filters", "transfer", "keep", "round_config"] + StrategyDecoder.keys
                             + DriftCorrectionDecoder.keys + EvaluationDecoder.keys
    static let clientKeys = ["executor", "filters", "transfer", "keep", "resources"]
    static let transferKeys = ["mode", "chunk", "window", "window_bytes"]
    static let executorKeys = ["command", "env", "timeout", "launcher", "slurm", "queue_timeout", "persistent", "restarts"]
    static let defaultTimeout: Duration = .seconds(30 * 60)
    static let timeoutRange: ClosedRange<Duration> = .seconds(1) ... .seconds(30 * 86_400)

    let context: YAMLContext
    /// The job folder (for `initial_model`); nil skips the checks of files on disk.
    let jobDirectory: String?
    /// The app folder (for relative executables); nil skips the checks of files on disk.
    let appDirectory: String?
    /// job.yaml's `min_clients` (default for the server's).
    let jobMinClients: Int?
    /// Whether a missing `initial_model` file is an error (false for a client's copy of a job).
    var requireInitialModel = true

    func decode(_ root: Node) -> AppConfig? {
        guard let top = FieldReader.of(root, path: "", context: context) else { return nil }
        let hasWorkflow = top.keyMark("workflow") != nil
        let hasExecutor = top.keyMark("executor") != nil
        switch (hasWorkflow, hasExecutor) {
        case (true, true):
            context.error("an app has either `workflow` (server app) or `executor` (client app), not both",
                          at: top.keyMark("executor"), hint: "split them into two app folders, e.g. apps/server and apps/client")
            return nil
        case (false, false):
            top.checkKeys(Self.serverKeys + Self.clientKeys)
            context.error("app.yaml needs `workflow` (a server app) or `executor` (a client app)", at: root.mark,
                          hint: "add `workflow: fedavg` for the server app or an `executor:` with a `command` for a client app")
            return nil
        case (true, false):
            return decodeServer(top).map(AppConfig.server)
        case (false, true):
            return decodeClient(top).map(AppConfig.client)
        }
    }

    private func decodeServer(_ top: FieldReader) -> ServerAppConfig? {
        top.checkKeys(Self.serverKeys)
        let workflow = top.choice("workflow", Workflow.self, required: "add `workflow: fedavg` or `workflow: cyclic`")
        var rounds = top.int("rounds", range: 1...100_000, required: workflow == .crossSiteEval ? nil : "add `rounds: 3`")
        if workflow == .crossSiteEval {
            if let given = rounds, given != 1 {
                context.error("`workflow: cross-site-eval` runs once: 'rounds' must be 1, found \(given)", at: top.value("rounds")?.mark,
                              hint: "remove 'rounds' (or write `rounds: 1`)")
            }
            rounds = 1
        }
        let timeout = top.duration("round_timeout", range: Self.timeoutRange) ?? Self.defaultTimeout
        let minClients = top.int("min_clients", range: 1...10_000) ?? jobMinClients ?? 1
        let initialModel = top.string("initial_model")
        if let initialModel, let node = top.value("initial_model") { checkInitialModel(initialModel, mark: node.mark) }
        let order = top.choice("order", CyclicOrder.self) ?? .fixed
        let seed = top.uint64("seed") ?? 0
        if workflow != .cyclic {
            for key in ["order", "seed"] where top.keyMark(key) != nil {
                context.error("'\(key)' applies only to `workflow: cyclic`", at: top.keyMark(key),
                              hint: "remove '\(key)' or switch to `workflow: cyclic`")
            }
        }
        var filters = ServerFilters(toClients: nil)
        if let f = top.nested("filters") {
            f.checkKeys(["to_clients"])
            filters.toClients = f.choice("to_clients", QuantFormat.self, noneWord: "none")
        }
        let transfer = decodeTransfer(top)
        let roundConfig = top.value("round_config").flatMap { RoundConfigDecoder(context: context).decode($0) }
        let strategy = StrategyDecoder(context: context)
        if workflow == .cyclic {
            for key in ["aggregator", "trim", "max_update_norm"] where top.keyMark(key) != nil {
                context.error("'\(key)' does not apply to `workflow: cyclic`, which aggregates nothing", at: top.keyMark(key),
                              hint: "remove '\(key)' or switch to `workflow: fedavg`")
            }
        }
        let aggregation = strategy.aggregation(top)
        let optimizer = strategy.optimizer(top, workflow: workflow)
        if aggregation.maxUpdateNorm != nil, initialModel == nil {
            context.error("`max_update_norm` needs `initial_model`: round 1's updates are measured from it",
                          at: top.keyMark("max_update_norm"), hint: "add `initial_model: models/initial.safetensors`")
        }
        if workflow == .fedopt, initialModel == nil {
            context.error("`workflow: fedopt` needs `initial_model`: the server optimizer steps from it in round 1",
                          at: top.keyMark("workflow"), hint: "add `initial_model: models/initial.safetensors`")
        }
        let correction = DriftCorrectionDecoder(context: context).decode(top, workflow: workflow, initialModel: initialModel)
        let evaluation = EvaluationDecoder(context: context)
        let evaluateEvery = evaluation.evaluateEvery(top, workflow: workflow, rounds: rounds)
        let localModels = evaluation.localModels(top, workflow: workflow, hasInitialModel: initialModel != nil)
        if workflow == .crossSiteEval {
            for key in ["aggregator", "trim", "max_update_norm"] where top.keyMark(key) != nil {
                context.error("'\(key)' does not apply to `workflow: cross-site-eval`, which aggregates nothing", at: top.keyMark(key),
                              hint: "remove '\(key)'")
            }
        }
        guard let workflow, let rounds else { return nil }
        var config = ServerAppConfig(workflow: workflow, rounds: rounds, roundTimeout: timeout, minClients: minClients,
                               initialModel: initialModel, order: order, seed: seed, filters: filters,
                               transfer: transfer, keep: top.choice("keep", ServerKeep.self, noneWord: "none"),
                               roundConfig: roundConfig, aggregation: aggregation, serverOptimizer: optimizer,
                               evaluateEvery: evaluateEvery, localModels: localModels)
        config.mu = correction.mu
        config.serverLearningRate = correction.serverLearningRate
        return config
    }

    private func decodeClient(_ top: FieldReader) -> ClientAppConfig? {
        top.checkKeys(Self.clientKeys)
        let executor = top.nested("executor").flatMap(decodeExecutor)
        var filters = ClientFilters(toServer: nil)
        if let f = top.nested("filters") {
            f.checkKeys(["to_server"])
            (filters.toServer, filters.privacy) = FilterChainDecoder(context: context).decode(f)
            filters.line = f.keyMark("to_server")?.line
        }
        let transfer = decodeTransfer(top)
        let keep = top.choice("keep", ClientKeep.self, noneWord: "none")
        guard let executor else { return nil }
        return ClientAppConfig(executor: executor, filters: filters, transfer: transfer, keep: keep,
                               resources: decodeResources(top))
    }

    private func decodeTransfer(_ top: FieldReader) -> TransferSettings {
        var settings = TransferSettings.defaults
        guard let t = top.nested("transfer") else { return settings }
        t.checkKeys(Self.transferKeys)
        if let mode = t.choice("mode", TransferMode.self) { settings.mode = mode }
        if let chunk = t.size("chunk", range: 4096...(1 << 30)) { settings.chunkSize = Int(chunk) }
        if let window = t.int("window", range: 1...1024) {
            settings.window = window
            settings.windowBytes = nil
        }
        // A byte window replaces the chunk window (as `ferry transfer send --window-bytes` does).
        if let bytes = t.size("window_bytes", range: 4096...(64 << 30)) { settings.windowBytes = bytes }
        return settings
    }

    private func decodeExecutor(_ e: FieldReader) -> ExecutorConfig? {
        e.checkKeys(Self.executorKeys)
        let command = decodeCommand(e)
        var env: [String: String] = [:]
        if let envNode = e.value("env"), let map = FieldReader.of(envNode, path: "executor.env", context: context) {
            for (key, value) in map.mapping {
                guard let name = key.scalar?.string, name.isEnvironmentName else {
                    context.error("invalid environment variable name \(FieldReader.describe(key))", at: key.mark,
                                  hint: "use letters, digits and '_', not starting with a digit, e.g. LEARNING_RATE")
                    continue
                }
                if name.hasPrefix("FERRY_") {
                    context.error("'\(name)' is reserved: ferry sets the FERRY_* variables itself", at: key.mark,
                                  hint: "rename the variable, or use the matching placeholder such as {round}")
                    continue
                }
                guard let text = map.scalarText(value, key: name, expected: "a string") else { continue }
                checkPlaceholders(text, mark: value.mark)
                env[name] = text
            }
        }
        let timeout = e.duration("timeout", range: Self.timeoutRange) ?? Self.defaultTimeout
        guard let command else { return nil }
        var config = ExecutorConfig(command: command, env: env, timeout: timeout)
        decodeLauncher(e, into: &config)
        decodePersistent(e, into: &config)
        return config
    }

    private func decodeCommand(_ e: FieldReader) -> [String]? {
        let hint = "add `command: [my-trainer, --input, \"{input_model}\", --output, \"{output_model}\"]`"
        guard let node = e.required("command", hint: hint) else { return nil }
        var argv: [String] = []
        var marks: [Mark?] = []   // where each argument is written (the whole string for a one-string command)
        switch node {
        case .scalar(let scalar):
            for word in scalar.string.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
                argv.append(String(word))
                marks.append(node.mark)
            }
            checkPlaceholders(scalar.string, mark: node.mark)
        case .sequence(let sequence):
            for item in sequence {
                guard let text = item.scalar?.string else {
                    context.error("command arguments must be strings, found \(FieldReader.describe(item))", at: item.mark,
                                  hint: "quote the argument, e.g. \"{input_model}\"")
                    return nil
                }
                checkPlaceholders(text, mark: item.mark)
                argv.append(text)
                marks.append(item.mark)
            }
        case .mapping, .alias:
            context.error("'executor.command' must be a list of arguments or a string, found a mapping", at: node.mark, hint: hint)
            return nil
        }
        guard let program = argv.first, !program.isEmpty else {
            context.error("'executor.command' is empty", at: node.mark, hint: hint)
            return nil
        }
        // A relative path names a file shipped in the app folder (e.g. custom/train.sh).
        if program.contains("/"), !program.hasPrefix("/"), Placeholders.references(in: program).isEmpty {
            guard let appDirectory else {
                if program.split(separator: "/").contains("..") {
                    context.error("the program '\(program)' leaves the app folder", at: node.mark,
                                  hint: "ship the program under this app's folder, e.g. custom/train.sh")
                }
                return argv
            }
            let path = (appDirectory as NSString).appendingPathComponent(program)
            if program.split(separator: "/").contains("..") {
                context.error("the program '\(program)' leaves the app folder", at: node.mark,
                              hint: "ship the program under this app's folder, e.g. custom/train.sh")
            } else if !FileManager.default.isExecutableFile(atPath: path) {
                let exists = FileManager.default.fileExists(atPath: path)
                let suggestion = exists ? nil : CommandFileCheck(appDirectory: appDirectory).suggestion(for: program)
                context.error(exists ? "the program '\(program)' is not executable" : "the program '\(program)' does not exist in the app folder",
                              at: node.mark, hint: exists ? "run `chmod +x \(program)` in the app folder, or start the command with its interpreter, e.g. [python3, \(program)]"
                                  : suggestion.map { "did you mean '\($0)'?" } ?? "put it at \(path), or name a program on PATH")
            }
        }
        if let appDirectory {
            let check = CommandFileCheck(appDirectory: appDirectory)
            for (argument, mark) in zip(argv, marks).dropFirst() {
                if let problem = check.problem(argument) { context.error(problem.message, at: mark, hint: problem.hint) }
            }
        }
        return argv
    }

    private func checkPlaceholders(_ text: String, mark: Mark?) {
        for name in Placeholders.references(in: text) where !Placeholders.names.contains(name) {
            context.error("unknown placeholder '{\(name)}'", at: mark,
                          hint: Suggestion.closest(to: name, among: Placeholders.names).map { "did you mean '{\($0)}'?" }
                              ?? "placeholders: " + Placeholders.names.map { "{\($0)}" }.joined(separator: ", ") + "; write {{ and }} for literal braces")
        }
    }

    private func checkInitialModel(_ path: String, mark: Mark?) {
        let hint = "give a path relative to the job folder, e.g. models/initial.safetensors"
        if path.hasPrefix("/") {
            context.error("'initial_model' must be relative to the job folder, found the absolute path '\(path)'", at: mark, hint: hint)
            return
        }
        if path.split(separator: "/").contains("..") {
            context.error("'initial_model' must stay inside the job folder, found '\(path)'", at: mark, hint: hint)
            return
        }
        guard let jobDirectory else { return }
        let full = (jobDirectory as NSString).appendingPathComponent(path)
        if !requireInitialModel && !FileManager.default.fileExists(atPath: full) { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else {
            context.error("initial model '\(path)' does not exist in the job folder", at: mark,
                          hint: "put the safetensors file at \(full), or remove `initial_model` to let the trainer initialize in round 1")
            return
        }
        let root = URL(fileURLWithPath: jobDirectory).resolvingSymlinksInPath().path
        let resolved = URL(fileURLWithPath: full).resolvingSymlinksInPath().path
        if !resolved.hasPrefix(root + "/") {
            context.error("initial model '\(path)' is a link to outside the job folder", at: mark,
                          hint: "copy the file into the job folder instead of linking to it")
        }
    }
}

private extension String {
    var isEnvironmentName: Bool {
        guard let first = unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
