import SystemPackage

/// Raw system calls that swift-system does not wrap, with EINTR handled here once.
///
/// File descriptors, opening, reading and writing go through swift-system's `FileDescriptor`
/// (which retries interrupted calls itself); the calls below are the rest ferry needs.
package enum Syscall {
    /// Runs `call` again while it fails with EINTR; returns its last result (errno is left as the
    /// call set it).
    @inlinable
    package static func retryingInterrupts<T: SignedInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    /// The current errno as a swift-system `Errno`.
    package static var lastError: Errno { Errno(rawValue: errno) }

    /// The text of an errno value ("No such file or directory").
    package static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// `write(2)` of up to `count` bytes, for callers whose type has a `write` of its own.
    @inline(__always)
    package static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
        #elseif canImport(Musl)
        Musl.write(fd, buffer, count)
        #else
        Darwin.write(fd, buffer, count)
        #endif
    }

    /// `read(2)` of up to `count` bytes, for callers whose type has a `read` of its own.
    @inline(__always)
    package static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.read(fd, buffer, count)
        #elseif canImport(Musl)
        Musl.read(fd, buffer, count)
        #else
        Darwin.read(fd, buffer, count)
        #endif
    }

    /// Ends the process with `status`, for callers whose type has an `exit` of its own.
    package static func terminate(_ status: Int32) -> Never {
        #if canImport(Glibc)
        Glibc.exit(status)
        #elseif canImport(Musl)
        Musl.exit(status)
        #else
        Darwin.exit(status)
        #endif
    }

    /// Sleeps for `duration`, resuming after signals until it has passed.
    package static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = max(duration, .milliseconds(1)).components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// This host's name, or "unknown".
    package static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, 255) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Seconds since the epoch, from the real-time clock, with nanosecond resolution.
    package static func realTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
