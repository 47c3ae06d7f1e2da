import Foundation

/// One local training round: read the global model, train on the site's data, write the
/// model and the result file; or, in an evaluate task, score the model and write the result only.
struct Trainer {
    var options: TrainerOptions

    /// A failure with its exit status.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        var exitCode: Int32 = 1
    }

    func run() throws {
        let o = options
        if o.sleepSeconds > 0 {
            log("site \(o.site) round \(o.round): sleeping \(o.sleepSeconds) s as requested")
            Thread.sleep(forTimeInterval: o.sleepSeconds)
        }
        if o.fail {
            throw Failure(description: "site \(o.site) round \(o.round): failing as requested (--fail or FERRY_TRAINER_FAIL_SITE)",
                          exitCode: 3)
        }
        let data = SyntheticFederation(features: o.features, seed: o.seed).dataset(site: o.site)
        if o.evaluates {
            let scores = try ModelFile.read(path: o.input, features: o.features).evaluate(on: data)
            try ResultFile.write(numSamples: data.count, metrics: ["loss": scores.loss, "accuracy": scores.accuracy], to: o.result)
            print("site \(o.site) round \(o.round): evaluated on \(data.count) samples, loss \(fixed(scores.loss)), accuracy \(fixed(scores.accuracy))")
            return
        }
        var model = o.input.isEmpty
            ? LogisticModel.zero(features: o.features)
            : try ModelFile.read(path: o.input, features: o.features)
        let before = model.evaluate(on: data)
        model.train(on: data, epochs: o.epochs, learningRate: o.learningRate)
        let after = model.evaluate(on: data)
        try ModelFile.write(model, to: o.output)
        let metrics: KeyValuePairs<String, Double> = [
            "loss": after.loss, "accuracy": after.accuracy,
            "input_loss": before.loss, "input_accuracy": before.accuracy,
        ]
        try ResultFile.write(numSamples: data.count, metrics: metrics, to: o.result)
        print("site \(o.site) round \(o.round): \(data.count) samples, loss \(fixed(before.loss)) -> \(fixed(after.loss)), "
              + "accuracy \(fixed(before.accuracy)) -> \(fixed(after.accuracy))")
    }

    private func log(_ text: String) {
        FileHandle.standardError.write(Data("ferry-example-trainer: \(text)\n".utf8))
    }
}

/// `value` with 4 decimals.
func fixed(_ value: Double) -> String {
    String(format: "%.4f", value)
}

/// The result file of the executor contract: `{"num_samples": N, "metrics": {...}}`.
enum ResultFile {
    /// Writes the result atomically (temporary file in the same folder, then rename).
    static func write(numSamples: Int, metrics: KeyValuePairs<String, Double>, to path: String) throws {
        var fields: [String] = []
        for (key, value) in metrics {
            guard value.isFinite else { throw Trainer.Failure(description: "metric \(key) is not finite (\(value)); lower --lr") }
            fields.append("\"\(key)\": \(value)")
        }
        let json = "{\"num_samples\": \(numSamples), \"metrics\": {\(fields.joined(separator: ", "))}}\n"
        do {
            try Data(json.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw Trainer.Failure(description: "\(path): cannot write the result file: \(error.localizedDescription)")
        }
    }
}
