import ArgumentParser
import FerryQuant
import FerrySupport
import FerryTensors
import Dispatch
/// `ferry bench quant`: codec throughput per format, as GB/s and as a ratio to memcpy.
struct BenchQuantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quant",
        abstract: "Measure quantize and dequantize throughput per format against memcpy of the same buffer.",
        discussion: """
        Fills one f32 buffer with normal(0, 0.02) values, then times, on the same buffer and in the same \
        run: a plain memcpy of it (the baseline), and each format's quantize (f32 → codes + absmax) and \
        dequantize (codes + absmax → f32), each on --threads threads (default: every core, at most 8). \
        nf4-dq and fp4-dq include their second, small pass over the absmax values (double quantization \
        after the codes, restoring the absmax before decoding). Each figure is the best of --repeat runs. GB/s counts f32 input bytes (10^9 bytes per second); \
        "× memcpy" is the ratio to the memcpy rate. The kernel level (scalar, portable, avx2, avx512) is \
        chosen at run time; --level caps it to compare implementations (portable: the C vector code \
        that ARM runs).

        Examples:
          ferry bench quant
          ferry bench quant --size 1GiB --repeat 5
          ferry bench quant --level scalar --threads 1
          ferry bench quant --level portable
        """
    )

    @Option(help: ArgumentHelp("Size of the f32 buffer (e.g. 256MiB, 1GiB).", valueName: "size"))
    var size: String = "256MiB"

    @Option(help: "Runs per measurement; the best one counts.")
    var `repeat`: Int = 3

    @Option(help: "Threads (default: online cores, at most 8).")
    var threads: Int?

    @Option(help: ArgumentHelp("Highest kernel level to use: scalar, portable, avx2 or avx512.", valueName: "level"))
    var level: String?

    func validate() throws {
        let bytes = try ByteCount.parse(size)
        guard bytes >= 1 << 16, bytes <= 64 << 30 else { throw ValidationError("--size must be between 64KiB and 64GiB") }
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let level, QuantKernels.Level.allCases.first(where: { $0.name == level }) == nil {
            throw ValidationError("--level must be scalar, portable, avx2 or avx512")
        }
    }

    func run() async throws {
        if let level { QuantKernels.setMaximumLevel(QuantKernels.Level.allCases.first { $0.name == level }) }
        let count = Int(try ByteCount.parse(size)) / 4 / 4096 * 4096
        let threadCount = threads ?? QuantCodec.defaultThreadCount
        let bench = QuantBenchmark(count: count, threads: threadCount, repeats: `repeat`)
        defer { bench.release() }
        print("buffer: \(ByteCount.format(Int64(count * 4))) f32 (\(count) values, normal(0, 0.02)), "
              + "threads: \(threadCount), kernels: \(QuantKernels.activeLevel.name), best of \(`repeat`)")
        let memcpyRate = bench.memcpyRate()
        print("operation".padding(22) + "GB/s".leftPadding(8) + "× memcpy".leftPadding(10))
        print("memcpy".padding(22) + formatFixed(memcpyRate, 2).leftPadding(8) + "1.00".leftPadding(10))
        for format in QuantFormat.allCases {
            let (q, d) = bench.rates(format)
            for (name, rate) in [("\(format.rawValue) quantize", q), ("\(format.rawValue) dequantize", d)] {
                print(name.padding(22) + formatFixed(rate, 2).leftPadding(8) + formatFixed(rate / memcpyRate, 2).leftPadding(10))
            }
        }
    }
}

/// Buffers and timing for ``BenchQuantCommand``.
final class QuantBenchmark {
    let count: Int
    let threads: Int
    let repeats: Int
    let input: UnsafeMutableBufferPointer<Float>
    let output: UnsafeMutableBufferPointer<Float>
    let payload: UnsafeMutableRawBufferPointer
    let absmax: UnsafeMutablePointer<Float>
    /// The 8-bit absmax codes and group scales of nf4-dq and fp4-dq.
    let absmaxCodes: UnsafeMutablePointer<UInt8>
    let absmaxScales: UnsafeMutablePointer<Float>

    init(count: Int, threads: Int, repeats: Int) {
        self.count = count
        self.threads = threads
        self.repeats = repeats
        input = .allocate(capacity: count)
        output = .allocate(capacity: count)
        payload = .allocate(byteCount: count * 2, alignment: 64)
        absmax = .allocate(capacity: count / 64 + 1)
        absmaxCodes = .allocate(capacity: count / 64 + 1)
        absmaxScales = .allocate(capacity: count / 64 / QuantFormat.absmaxGroupSize + 1)
        let run = SyntheticModel.valuesPerRun
        for start in stride(from: 0, to: count, by: run) {
            SyntheticModel.normalRun(seed: UInt64(start), into: UnsafeMutableBufferPointer(rebasing: input[start..<min(count, start + run)]))
        }
        // Touch every page once so the first timed run does not pay for page faults.
        output.initialize(repeating: 0)
        payload.initializeMemory(as: UInt8.self, repeating: 0)
    }

    func release() {
        input.deallocate(); output.deallocate(); payload.deallocate(); absmax.deallocate()
        absmaxCodes.deallocate(); absmaxScales.deallocate()
    }

    /// Best rate in GB/s of f32 bytes for `body`.
    private func best(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        var fastest = Duration.seconds(1_000_000)
        for _ in 0..<repeats {
            let t = clock.measure(body)
            fastest = min(fastest, t)
        }
        let seconds = Double(fastest.components.seconds) + Double(fastest.components.attoseconds) * 1e-18
        return Double(count * 4) / max(seconds, 1e-9) / 1e9
    }

    /// memcpy of the f32 buffer, split over the same threads.
    func memcpyRate() -> Double {
        let src = UnsafeRawPointer(input.baseAddress!), dst = UnsafeMutableRawPointer(output.baseAddress!)
        let n = count * 4, t = threads
        nonisolated(unsafe) let s = src, d = dst
        return best {
            DispatchQueue.concurrentPerform(iterations: t) { i in
                let lo = n / t * i, hi = i == t - 1 ? n : n / t * (i + 1)
                memcpy(d + lo, s + lo, hi - lo)
            }
        }
    }

    /// Quantize and dequantize rates of `format`.
    func rates(_ format: QuantFormat) -> (Double, Double) {
        let blocks = Int(format.blockCount(elements: Int64(count)))
        var offset: Float = 0
        let q = best {
            QuantCodec.encode(format: format, source: input.baseAddress!, type: .f32, count: count,
                              payload: payload.baseAddress!, absmax: absmax, threads: threads)
            if format.isDoubleQuantized {
                offset = DoubleQuantizedAbsmax.offset(of: UnsafeBufferPointer(start: absmax, count: blocks))
                DoubleQuantizedAbsmax.quantize(absmax: absmax, count: blocks, offset: offset,
                                               codes: absmaxCodes, scales: absmaxScales, threads: threads)
            }
        }
        let d = best {
            if format.isDoubleQuantized {
                DoubleQuantizedAbsmax.dequantize(codes: absmaxCodes, scales: absmaxScales, offset: offset,
                                                 count: blocks, into: absmax)
            }
            QuantCodec.decode(format: format, payload: payload.baseAddress!, absmax: absmax, count: count,
                              into: output.baseAddress!, type: .f32, threads: threads)
        }
        return (q, d)
    }
}
