import Synchronization

/// A `Mutex` behind a reference, so that closures running on other threads can share it
/// (`Mutex` itself is not copyable and cannot be captured).
final class SharedMutex<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try mutex.withLock { try body(&$0) }
    }
}
