import FerryAggregation
import ArgumentParser
import FerryRuntime
import FerrySupport
import FerryTensors
import Foundation
/// `ferry bench aggregate`: streaming aggregation over client files, against plain I/O of the same bytes.
struct BenchAggregateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregate",
        abstract: "Time streaming aggregation of client models against reading them and writing one model.",
        discussion: """
        Writes --clients synthetic models (--like, one seed each) into a scratch folder, then measures in \
        the same run: the baseline (read every client file and write one file of the model's size, in \
        8 MiB pieces — the I/O any aggregation needs), and the --aggregator of the clients with the \
        streaming aggregator (tensor by tensor, slice by slice, on --threads threads; median and \
        trimmed-mean combine a cache-sized chunk of every client at a time; fedopt is the mean and an \
        adam step from site-1's \
        model in one pass, with its optimizer state written beside). Each figure is the \
        best of --repeat runs. GB/s counts client bytes read per second; "× baseline" is the time ratio. \
        Peak memory is the process's peak RSS, to compare with the (clients + 2) × model size that \
        NVFlare's FedAvg holds.

        Examples:
          ferry bench aggregate
          ferry bench aggregate --like llama-tiny --clients 8 --buffer 1MiB
          ferry bench aggregate --aggregator trimmed-mean --trim 1 --clients 5
          ferry bench aggregate --like llama-3.2-1b --dtype bf16 --clients 2 --repeat 1
        """
    )

    @Option(help: ArgumentHelp("Synthetic architecture of the client models (\(SyntheticModel.names.joined(separator: ", "))).",
                               valueName: "name"))
    var like: String = "gpt2-small"

    @Option(help: ArgumentHelp("Dtype of the client models: f32, f16 or bf16.", valueName: "dtype"))
    var dtype: String = "f32"

    @Option(help: "Number of client models.")
    var clients: Int = 3

    @Option(help: ArgumentHelp("Aggregation buffer (the accumulator per slice; working set ≈ 3.5×).", valueName: "size"))
    var buffer: String = "4MiB"

    @Option(help: ArgumentHelp("mean, median, trimmed-mean or fedopt.", valueName: "name"))
    var aggregator: String = "mean"

    @Option(help: "Values dropped at each end per element (trimmed-mean).")
    var trim: Int = 1

    @Option(help: "Threads for the aggregation.")
    var threads: Int = 2

    @Option(help: "Runs per measurement; the best one counts.")
    var `repeat`: Int = 3

    @Option(help: ArgumentHelp("Scratch folder (default: a new folder in the temporary directory, removed at the end).",
                               valueName: "dir"))
    var scratch: String?

    private var modelDType: DType? {
        switch dtype.lowercased() {
        case "f32": return .f32
        case "f16": return .f16
        case "bf16": return .bf16
        default: return nil
        }
    }

    func validate() throws {
        guard SyntheticModel.named(like) != nil else {
            throw ValidationError("--like must be one of \(SyntheticModel.names.joined(separator: ", "))")
        }
        guard modelDType != nil else { throw ValidationError("--dtype must be f32, f16 or bf16") }
        guard clients >= 1, clients <= 64 else { throw ValidationError("--clients must be between 1 and 64") }
        guard ["mean", "median", "trimmed-mean", "fedopt"].contains(aggregator) else {
            throw ValidationError("--aggregator must be mean, median, trimmed-mean or fedopt")
        }
        guard aggregator != "trimmed-mean" || (trim >= 1 && 2 * trim < clients) else {
            throw ValidationError("--trim must be at least 1 and less than half of --clients")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
        let bytes = try ByteCount.parse(buffer)
        guard bytes >= 512, bytes <= 1 << 30 else { throw ValidationError("--buffer must be between 512B and 1GiB") }
    }

    func run() async throws {
        let model = SyntheticModel.named(like, dtype: modelDType!)!
        let folder = scratch ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-bench-aggregate-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if scratch == nil { try? FileManager.default.removeItem(atPath: folder) } }

        var inputs: [AggregationInput] = []
        for client in 1...clients {
            let path = "\(folder)/site-\(client).safetensors"
            let display = ProgressDisplay(label: "synth site-\(client)", total: model.dataByteCount)
            try model.write(to: path, seed: UInt64(client)) { display.update($0) }
            display.finish()
            inputs.append(AggregationInput(path: path, weight: Double(100 * client), label: "site-\(client)"))
        }
        let fileBytes = try Self.fileSize(inputs[0].path)
        let totalRead = fileBytes * Int64(clients)
        let output = "\(folder)/global.safetensors"
        let peakBefore = ProcessStats.peakResidentBytes

        let baseline = try best { try Self.copyBaseline(inputs.map(\.path), output: output, modelBytes: fileBytes) }
        let aggregator = StreamingAggregator(bufferSize: Int(try ByteCount.parse(buffer)), threads: threads)
        let aggregate = try best { try aggregateOnce(inputs, with: aggregator, into: output, scratch: folder) }
        let peak = ProcessStats.peakResidentBytes

        print("model: \(like) \(dtype) (\(model.tensors.count) tensors, \(ByteCount.format(fileBytes)) per file), "
              + "clients: \(clients), buffer: \(buffer), threads: \(threads), best of \(`repeat`)")
        print("operation".padding(28) + "seconds".leftPadding(10) + "GB/s".leftPadding(8) + "× baseline".leftPadding(12))
        for (name, seconds) in [("read clients + write model", baseline), ("streaming \(self.aggregator)", aggregate)] {
            print(name.padding(28) + formatFixed(seconds, 3).leftPadding(10)
                  + formatFixed(Double(totalRead) / seconds / 1e9, 2).leftPadding(8)
                  + formatFixed(seconds / baseline, 2).leftPadding(12))
        }
        print("peak RSS: \(ByteCount.format(peak)) (\(ByteCount.format(peakBefore)) before timing, synthesis included); "
              + "NVFlare FedAvg holds about (clients + 2) × model = \(ByteCount.format(Int64(clients + 2) * fileBytes))")
    }

    /// One aggregation with --aggregator.
    private func aggregateOnce(_ inputs: [AggregationInput], with streaming: StreamingAggregator, into output: String,
                               scratch: String) throws {
        switch self.aggregator {
        case "median":
            try streaming.aggregate(inputs, robust: RobustAggregation(rule: .median), reference: nil, into: output)
        case "trimmed-mean":
            try streaming.aggregate(inputs, robust: RobustAggregation(rule: .trimmedMean(trim: trim)), reference: nil, into: output)
        case "fedopt":
            try ServerOptimizer(name: .adam, lr: 0.01).step(clients: inputs, previous: inputs[0].path, state: nil,
                                                            output: output, stateOutput: scratch + "/optimizer.safetensors",
                                                            aggregator: streaming)
        default:
            try streaming.aggregate(inputs, into: output)
        }
    }

    /// Best wall time in seconds of `body` over --repeat runs.
    private func best(_ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        var fastest = Double.infinity
        for _ in 0..<`repeat` {
            let elapsed = try clock.measure(body)
            fastest = min(fastest, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return max(fastest, 1e-9)
    }

    /// Reads every input in 8 MiB pieces, and writes `modelBytes` bytes (the last piece read) to `output`.
    private static func copyBaseline(_ inputs: [String], output: String, modelBytes: Int64) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 << 20, alignment: 64)
        defer { buffer.deallocate() }
        let out = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard out >= 0 else { throw BenchError.io("cannot write \(output): \(String(cString: strerror(errno)))") }
        defer { close(out) }
        var written: Int64 = 0
        for path in inputs {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw BenchError.io("cannot read \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            while true {
                let n = read(fd, buffer.baseAddress, buffer.count)
                if n <= 0 { break }
                if written < modelBytes {
                    let take = Int(min(Int64(n), modelBytes - written))
                    guard write(out, buffer.baseAddress, take) == take else { throw BenchError.io("write to \(output) failed") }
                    written += Int64(take)
                }
            }
        }
        _ = fsync(out)
    }

    private static func fileSize(_ path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw BenchError.io("cannot stat \(path)") }
        return Int64(info.st_size)
    }
}
