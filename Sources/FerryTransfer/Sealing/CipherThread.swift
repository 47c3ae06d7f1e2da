import Foundation

/// A thread of its own for sealing and opening chunks, on which their chunk-sized buffers are also
/// freed.
///
/// swift-crypto returns every sealed or opened chunk in new buffers (a chunk and a little more each).
/// glibc keeps what a thread frees in that thread's arena; when the thread that makes those buffers also
/// makes and frees small objects, these land between the freed buffers and the arena grows by a chunk
/// for good (a sealed 1 GiB transfer peaked 8 MiB higher in some runs, docs/benchmarks.md). Here the
/// buffers are the only large allocations of the thread's arena, made and freed in the same order every
/// chunk, so the allocator hands the same memory back each time.
final class CipherThread: @unchecked Sendable {
    /// What the thread and its callers share; the thread holds this, not the ``CipherThread``, so that
    /// dropping the last ``CipherThread`` stops it.
    private final class Channel: @unchecked Sendable {
        let request = DispatchSemaphore(value: 0)
        let response = DispatchSemaphore(value: 0)
        var job: (() -> Void)?
        var stopping = false

        func serve() {
            while true {
                request.wait()
                if stopping { return }
                job?()
                response.signal()
            }
        }
    }

    private let channel = Channel()

    init(name: String) {
        let thread = Thread { [channel] in channel.serve() }
        thread.name = name
        thread.start()
    }

    deinit {
        channel.stopping = true
        channel.request.signal()
    }

    /// Runs `body` on the thread and waits for it.
    func perform<T>(_ body: () throws -> T) throws -> T {
        var result: Result<T, any Error>?
        withoutActuallyEscaping(body) { body in
            channel.job = { result = Result { try body() } }
            channel.request.signal()
            channel.response.wait()
            channel.job = nil
        }
        return try result!.get()
    }

    /// Drops `value` (holding its last reference) on the thread.
    func release<T>(_ value: inout T?) {
        var last = value
        value = nil
        _ = try? perform { last = nil }
        precondition(last == nil)
    }
}
