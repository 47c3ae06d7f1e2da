import FerrySupport
/// Copies a child's stdout and stderr into a log file a line at a time (so lines of the two
/// streams never mix), and keeps the last few KiB of stderr for error reports. Nothing else of
/// the output is held in memory.
struct OutputPump {
    /// Longest partial line held before it is written anyway.
    static let maxPendingLine = 64 << 10
    /// How much of the stderr tail is kept.
    static let tailLimit = 4096

    private let logFD: Int32
    private var pending: [[UInt8]] = [[], []]
    private var tail: [UInt8] = []
    private var tailTruncated = false

    init(logFD: Int32) { self.logFD = logFD }

    /// Takes `bytes` read from stream 0 (stdout) or 1 (stderr).
    mutating func consume(_ bytes: UnsafeRawBufferPointer, stream: Int) {
        if stream == 1 { appendTail(bytes) }
        pending[stream].append(contentsOf: bytes)
        if let lastNewline = pending[stream].lastIndex(of: 0x0a) {
            writeLog(pending[stream][...lastNewline])
            pending[stream].removeSubrange(...lastNewline)
        }
        if pending[stream].count > Self.maxPendingLine {
            writeLog(pending[stream][...])
            pending[stream].removeAll(keepingCapacity: true)
        }
    }

    /// Writes what is left of a stream's last line (the stream ended).
    mutating func finish(stream: Int) {
        guard !pending[stream].isEmpty else { return }
        pending[stream].append(0x0a)
        writeLog(pending[stream][...])
        pending[stream].removeAll()
    }

    /// Waits up to `milliseconds` for output of `child` on the streams still `open`, and copies what
    /// came into the log (a stream at its end is finished and marked closed).
    mutating func pump(_ child: ChildProcess, open: inout [Bool], buffer: UnsafeMutableRawBufferPointer, milliseconds: Int32) {
        var fds = [pollfd(fd: open[0] ? child.stdoutFD : -1, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: open[1] ? child.stderrFD : -1, events: Int16(POLLIN), revents: 0)]
        guard poll(&fds, 2, milliseconds) > 0 else { return }
        for stream in 0..<2 where open[stream] && fds[stream].revents != 0 {
            let n = Syscall.retryingInterrupts { read(fds[stream].fd, buffer.baseAddress, buffer.count) }
            if n > 0 {
                consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), stream: stream)
            } else if n == 0 || errno != EAGAIN {
                open[stream] = false
                finish(stream: stream)
            }
        }
    }

    /// The child has exited and its output is drained: finishes the streams still open, closes the
    /// pipes and trims the stderr tail.
    mutating func finishAll(_ child: ChildProcess, open: [Bool]) {
        for stream in 0..<2 where open[stream] { finish(stream: stream) }
        close(child.stdoutFD)
        close(child.stderrFD)
        trimTail()
    }

    /// Writes a line of ferry's own to the log.
    func note(_ text: String) {
        writeLog(Array((text + "\n").utf8)[...])
    }

    /// The kept stderr tail as text, starting at a line boundary when it was cut.
    var stderrTail: String {
        var bytes = tail[...]
        if tailTruncated, let nl = bytes.firstIndex(of: 0x0a), nl < bytes.endIndex - 1 {
            bytes = bytes[(nl + 1)...]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func appendTail(_ bytes: UnsafeRawBufferPointer) {
        tail.append(contentsOf: bytes.suffix(Self.tailLimit))
        if tail.count > 2 * Self.tailLimit {
            tail.removeFirst(tail.count - Self.tailLimit)
            tailTruncated = true
        }
    }

    /// Keeps the tail at most `tailLimit` bytes (called once at the end).
    mutating func trimTail() {
        if tail.count > Self.tailLimit {
            tail.removeFirst(tail.count - Self.tailLimit)
            tailTruncated = true
        }
    }

    private func writeLog(_ bytes: ArraySlice<UInt8>) {
        guard logFD >= 0 else { return }
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Syscall.retryingInterrupts { write(logFD, raw.baseAddress! + offset, raw.count - offset) }
                // A full disk must not stall the executor; the log just ends early.
                if n < 0 { return }
                offset += n
            }
        }
    }
}
