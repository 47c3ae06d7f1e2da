/// Shows progress of long work on standard error: a redrawn bar (bytes, rate, ETA) on a
/// terminal, a plain line every few seconds otherwise (logs, CI). Silent when `quiet`.
public final class ProgressDisplay {
    private let label: String
    private let total: Int64?
    private let quiet: Bool
    private let interactive: Bool
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var lastDraw: ContinuousClock.Instant
    private var done: Int64 = 0
    private let plainInterval: Duration

    /// - Parameters:
    ///   - label: what is being done, e.g. `send model.safetensors`.
    ///   - total: the expected number of bytes, when known.
    ///   - quiet: print nothing.
    ///   - plainInterval: how often a plain line is printed when stderr is not a terminal.
    public init(label: String, total: Int64?, quiet: Bool = false, plainInterval: Duration = .seconds(5)) {
        self.label = label
        self.total = total
        self.quiet = quiet
        self.interactive = isatty(STDERR_FILENO) == 1
        self.start = clock.now
        self.lastDraw = clock.now
        self.plainInterval = plainInterval
    }

    /// Reports that `bytes` bytes are done in all.
    public func update(_ bytes: Int64) {
        done = bytes
        guard !quiet else { return }
        let now = clock.now
        let interval: Duration = interactive ? .milliseconds(100) : plainInterval
        if now - lastDraw >= interval {
            lastDraw = now
            draw(final: false)
        }
    }

    /// Prints the final state and ends the line.
    public func finish() {
        guard !quiet else { return }
        draw(final: true)
    }

    /// Seconds since the display was created.
    public var elapsed: Duration { clock.now - start }

    private func draw(final: Bool) {
        let secs = max(elapsed.seconds, 1e-6)
        let rate = Double(done) / secs
        var text = "\(label): \(ByteCount.format(done))"
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            if interactive {
                let width = 24
                let filled = Int(fraction * Double(width))
                text += " / \(ByteCount.format(total)) ["
                    + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
            } else {
                text += " / \(ByteCount.format(total))"
            }
            text += " " + formatFixed(fraction * 100, 1) + "%"
            if !final, rate > 0 {
                let remaining = Double(total - done) / rate
                text += " ETA " + DurationText.format(.milliseconds(Int64(remaining * 1000)))
            }
        }
        text += "  " + ByteCount.format(Int64(rate)) + "/s"
        if final { text += "  in " + DurationText.format(elapsed) }
        let line = interactive ? "\r\u{1B}[K" + text + (final ? "\n" : "") : text + "\n"
        StandardError.write(line)
    }
}

/// Unbuffered writes to standard error.
public enum StandardError {
    /// Writes `text` to standard error as is.
    public static func write(_ text: String) {
        var t = text
        t.withUTF8 { buf in
            var off = 0
            while off < buf.count {
                let n = Syscall.write(STDERR_FILENO, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }
}

/// Resource usage of the current process.
public enum ProcessStats {
    /// Peak resident set size of this process, in bytes (from `getrusage`).
    public static var peakResidentBytes: Int64 {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int64(usage.ru_maxrss) * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int64(usage.ru_maxrss)
        #endif
    }
}
