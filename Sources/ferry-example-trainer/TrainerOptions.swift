import FerrySupport
/// Command-line options of `ferry-example-trainer`. Each path/identity flag falls back to the
/// matching `FERRY_*` variable of the executor contract, so the trainer also runs with no flags.
struct TrainerOptions {
    var input = ""
    var output = ""
    var result = ""
    var site = ""
    var round = 1
    var epochs = 5
    var learningRate = 0.1
    var features = 8
    var seed: UInt64 = 0
    var fail = false
    var sleepSeconds = 0.0
    /// `train` or `evaluate` (`evaluate`: score --input on the site's data, write only the result).
    var taskKind = "train"

    static let usage = """
    USAGE: ferry-example-trainer --output FILE --result FILE --site NAME [--input FILE] [--round N]
                                 [--epochs N] [--lr X] [--features N] [--seed N] [--fail] [--sleep SECONDS]
                                 [--task-kind train|evaluate]

    The example client trainer of jobs/hello-fedavg: logistic regression on synthetic data that is
    different at every site (a shifted Gaussian mixture labelled by one fixed true model). It reads
    the global model from --input (empty: start from zeros), runs --epochs full-batch gradient steps
    on the site's data, and writes the updated model (F32 tensors `weight` [features], `bias` [1])
    to --output and {"num_samples": N, "metrics": {...}} to --result. Same inputs, same bytes.
    In an evaluate task it scores --input on the site's data and writes only the result (loss and
    accuracy); --output is not needed.

    OPTIONS:
      --input FILE      global model (safetensors); empty or absent: zero init  [$FERRY_INPUT_MODEL]
      --output FILE     where to write the trained model                        [$FERRY_OUTPUT_MODEL]
      --result FILE     where to write the result JSON                          [$FERRY_RESULT]
      --site NAME       site name; chooses the site's data (site-N → N)         [$FERRY_SITE]
      --round N         round number, reported only                             [$FERRY_ROUND]
      --epochs N        gradient steps per round (default 5)
      --lr X            learning rate (default 0.1, or $LEARNING_RATE)
      --features N      number of input features (default 8)
      --seed N          seed of the synthetic federation (default 0)
      --fail            exit with status 3 after printing an error (for tests)
      --sleep SECONDS   sleep before training (for timeout tests)
      --task-kind KIND  train (default) or evaluate                             [$FERRY_TASK_KIND]
      -h, --help        show this help

    TEST SWITCHES (environment; set them in the client app's executor.env — FERRY_* names are reserved):
      TRAINER_FAIL_SITE=site-2[,site-3]   act as --fail at these sites (`*`: every site)
      TRAINER_FAIL_ROUND=N                only fail in round N
      TRAINER_SLEEP_SITE=site-2[,...]     sleep TRAINER_SLEEP_SECONDS (default 3600) at these sites
      TRAINER_SLEEP_ROUND=N               only sleep in round N
      TRAINER_FAIL_KIND=evaluate          only fail (or sleep) in tasks of this kind
    """

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `arguments` (without the program name) with `environment` as fallback.
    static func parse(_ arguments: [String], environment: [String: String]) throws -> TrainerOptions? {
        var o = TrainerOptions()
        o.input = environment["FERRY_INPUT_MODEL"] ?? ""
        o.output = environment["FERRY_OUTPUT_MODEL"] ?? ""
        o.result = environment["FERRY_RESULT"] ?? ""
        o.site = environment["FERRY_SITE"] ?? ""
        if let r = environment["FERRY_ROUND"], let n = Int(r) { o.round = n }
        if let kind = environment["FERRY_TASK_KIND"], !kind.isEmpty { o.taskKind = kind }
        if let lr = environment["LEARNING_RATE"] {
            guard let v = Double(lr), v > 0, v.isFinite else {
                throw UsageError(description: "LEARNING_RATE='\(lr)' is not a positive number")
            }
            o.learningRate = v
        }

        var i = 0
        func value(_ flag: String) throws -> String {
            i += 1
            guard i < arguments.count else { throw UsageError(description: "\(flag) needs a value") }
            return arguments[i]
        }
        func number<T: LosslessStringConvertible>(_ flag: String, _: T.Type) throws -> T {
            let text = try value(flag)
            guard let v = T(text) else { throw UsageError(description: "\(flag) '\(text)' is not a valid number") }
            return v
        }
        while i < arguments.count {
            let arg = arguments[i]
            switch arg {
            case "-h", "--help": return nil
            case "--input": o.input = try value(arg)
            case "--output": o.output = try value(arg)
            case "--result": o.result = try value(arg)
            case "--site": o.site = try value(arg)
            case "--round": o.round = try number(arg, Int.self)
            case "--epochs": o.epochs = try number(arg, Int.self)
            case "--lr": o.learningRate = try number(arg, Double.self)
            case "--features": o.features = try number(arg, Int.self)
            case "--seed": o.seed = try number(arg, UInt64.self)
            case "--fail": o.fail = true
            case "--sleep": o.sleepSeconds = try number(arg, Double.self)
            case "--task-kind": o.taskKind = try value(arg)
            default: throw UsageError(description: "unknown argument '\(arg)' (see --help)")
            }
            i += 1
        }
        guard o.taskKind == "train" || o.taskKind == "evaluate" else {
            throw UsageError(description: "--task-kind '\(o.taskKind)' is neither train nor evaluate")
        }
        guard !o.output.isEmpty || o.evaluates else { throw UsageError(description: "--output is required (or set FERRY_OUTPUT_MODEL)") }
        guard !o.input.isEmpty || !o.evaluates else { throw UsageError(description: "an evaluate task needs the model to evaluate: --input (or FERRY_INPUT_MODEL)") }
        guard !o.result.isEmpty else { throw UsageError(description: "--result is required (or set FERRY_RESULT)") }
        guard !o.site.isEmpty else { throw UsageError(description: "--site is required (or set FERRY_SITE)") }
        guard o.epochs >= 0, o.epochs <= 100_000 else { throw UsageError(description: "--epochs must be in 0...100000") }
        guard o.features >= 1, o.features <= 100_000 else { throw UsageError(description: "--features must be in 1...100000") }
        guard o.learningRate > 0, o.learningRate.isFinite else { throw UsageError(description: "--lr must be a positive number") }
        guard o.sleepSeconds >= 0, o.sleepSeconds.isFinite else { throw UsageError(description: "--sleep must be >= 0") }

        // Test switches from the environment.
        func matches(_ list: String?) -> Bool {
            guard let list, !list.isEmpty else { return false }
            return list.split(separator: ",").contains { $0 == "*" || $0.trimmingCharacters() == o.site }
        }
        func roundMatches(_ key: String) -> Bool {
            guard let r = environment[key], !r.isEmpty else { return true }
            return Int(r) == o.round
        }
        let kindMatches = (environment["TRAINER_FAIL_KIND"] ?? "").isEmpty || environment["TRAINER_FAIL_KIND"] == o.taskKind
        if matches(environment["TRAINER_FAIL_SITE"]), roundMatches("TRAINER_FAIL_ROUND"), kindMatches { o.fail = true }
        if matches(environment["TRAINER_SLEEP_SITE"]), roundMatches("TRAINER_SLEEP_ROUND"), kindMatches {
            o.sleepSeconds = environment["TRAINER_SLEEP_SECONDS"].flatMap(Double.init) ?? 3600
        }
        return o
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}

extension TrainerOptions {
    /// Whether this run evaluates instead of training.
    var evaluates: Bool { taskKind == "evaluate" }
}
