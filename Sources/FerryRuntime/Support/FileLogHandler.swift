import FerrySupport
import Foundation
import Logging
import Synchronization

/// An append-only log file shared by every logger that writes to it.
///
/// Lines are written with one `write(2)` each on an `O_APPEND` descriptor, so several writers
/// (the watcher, an executor's output appended by the executor runner) interleave whole lines.
public final class LogFile: Sendable {
    /// The file's path.
    public let path: String
    private let descriptor: Int32

    /// Opens (creating it and its folder if needed) `path` for appending.
    public init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileSystem.makeDirectory(dir) }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RuntimeError.fileUnwritable(path: path, reason: "cannot open log file: \(String(cString: strerror(errno)))")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Appends one line (a newline is added).
    public func append(line: String) {
        var text = line
        if !text.hasSuffix("\n") { text += "\n" }
        text.withUTF8 { buf in
            var off = 0
            while off < buf.count {
                let n = write(descriptor, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }
}

/// A swift-log handler writing `TIMESTAMP LEVEL [label] message key=value…` lines to a ``LogFile``,
/// and optionally echoing them to standard error.
public struct FileLogHandler: LogHandler {
    private let file: LogFile
    private let label: String
    private let echo: Bool
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    /// - Parameters:
    ///   - label: the logger's label, printed in brackets.
    ///   - file: where lines go.
    ///   - echo: also print each line on standard error.
    public init(label: String, file: LogFile, echo: Bool = false) {
        self.label = label
        self.file = file
        self.echo = echo
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "\(Self.timestamp()) \(event.level) [\(label)] \(event.message)"
        for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
        file.append(line: line)
        if echo {
            // write(2), not FileHandle.write: a standard error on a full disk must not stop the watcher.
            var text = line + "\n"
            text.withUTF8 { buf in _ = write(STDERR_FILENO, buf.baseAddress, buf.count) }
        }
    }

    /// A logger named `label` writing to `file`.
    public static func logger(label: String, file: LogFile, echo: Bool = false, level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label) { label in FileLogHandler(label: label, file: file, echo: echo) }
        logger.logLevel = level
        return logger
    }

    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var seconds = time_t(tv.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ n: Int) -> String {
            var s = String(v)
            while s.count < n { s = "0" + s }
            return s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(tv.tv_usec / 1000), 3))Z"
    }
}

/// The log files of the jobs a watcher works on, opened once each.
final class JobLogs: Sendable {
    private let files = Mutex<[String: LogFile]>([:])

    /// The log file at `path`, opened on first use.
    func file(_ path: String) throws -> LogFile {
        try files.withLock { open in
            if let f = open[path] { return f }
            let f = try LogFile(path: path)
            open[path] = f
            return f
        }
    }

    /// Forgets the file at `path` (closing it when nobody else holds it).
    func close(_ path: String) {
        _ = files.withLock { $0.removeValue(forKey: path) }
    }
}
