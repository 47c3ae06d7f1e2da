import Foundation

/// Splits a slice of `count` elements into parts run on `threads` threads (one part when `threads` is 1
/// or the slice is under `threshold` elements), the way every streaming aggregator does.
enum SliceParts {
    /// Runs `body(part, lo, hi)` for each part's elements `lo..<hi` (offsets into the slice), the parts
    /// at once; throws the first part's error after all have ended. Part boundaries fall on multiples of
    /// 64 elements, which keeps every part's buffers cache-line aligned.
    static func run(count n: Int, threads: Int, threshold: Int,
                    _ body: @escaping @Sendable (_ part: Int, _ lo: Int, _ hi: Int) throws -> Void) throws(AggregationError) {
        let parts = (threads > 1 && n >= threshold) ? threads : 1
        let step = ((n + parts - 1) / parts + 63) / 64 * 64
        let failures = PartFailures(parts: parts)
        let work: @Sendable (Int) -> Void = { part in
            let lo = min(n, part * step), hi = min(n, lo + step)
            guard lo < hi else { return }
            do { try body(part, lo, hi) } catch { failures.record(error, part: part) }
        }
        if parts == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: parts, execute: work)
        }
        if let error = failures.first { throw error }
    }
}

/// Errors raised by the parts of a parallel slice.
private final class PartFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [AggregationError?]

    init(parts: Int) { errors = Array(repeating: nil, count: parts) }

    func record(_ error: any Error, part: Int) {
        lock.lock()
        errors[part] = (error as? AggregationError) ?? .io(path: "", reason: "\(error)")
        lock.unlock()
    }

    var first: AggregationError? {
        lock.lock()
        defer { lock.unlock() }
        return errors.compactMap { $0 }.first
    }
}
