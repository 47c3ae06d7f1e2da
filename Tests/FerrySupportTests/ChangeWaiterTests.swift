import Dispatch
import Foundation
import Testing
import FerrySupport

/// The waiter returns early on a change or a wake-up, and at the poll interval otherwise. The waits
/// run on threads of their own (a blocking wait must never hold one of Swift concurrency's few
/// threads), and every deadline is a one-sided failsafe: "returned well before the 10-minute
/// timeout", never "took less than N ms".
@Suite struct ChangeWaiterTests {
    private static let long: Duration = .seconds(600)

    /// Starts `waiter.wait(timeout: long)` on a new thread; the semaphore is signalled when it returns.
    private func waitInBackground(_ waiter: ChangeWaiter) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            waiter.wait(timeout: Self.long)
            done.signal()
        }
        return done
    }

    @Test func aWakeUpFromAnotherThreadEndsTheWait() {
        let waiter = ChangeWaiter(notifications: false, wakeable: true)
        let done = waitInBackground(waiter)
        waiter.wake()  // before or after the wait began: either way it must end it
        #expect(done.wait(timeout: .now() + 120) == .success)
    }

    @Test func aNewFileInAWatchedFolderEndsTheWait() throws {
        let waiter = ChangeWaiter(notifications: true)
        try #require(waiter.usesNotifications, "inotify is available on Linux")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-cw-\(UUID().uuidString)").path
        try FileSystem.makeDirectory(dir)
        defer { FileSystem.remove(dir) }
        waiter.watch(dir)
        let done = waitInBackground(waiter)
        try FileSystem.write(Array("x".utf8), to: FileSystem.join(dir, "new"))
        #expect(done.wait(timeout: .now() + 120) == .success)
    }

    @Test func pollingOnlyReturnsAfterTheInterval() {
        let waiter = ChangeWaiter(notifications: false)
        #expect(!waiter.usesNotifications)
        let elapsed = ContinuousClock().measure { waiter.wait(timeout: .milliseconds(20)) }
        #expect(elapsed >= .milliseconds(20))
    }
}
