import Foundation
import Testing
import FerrySupport

/// The waiter returns early on a change or a wake-up, and at the poll interval otherwise. Deadlines
/// here are one-sided: "returned before the long timeout", never "took less than N ms".
@Suite struct ChangeWaiterTests {
    private static let long: Duration = .seconds(600)

    @Test func aWakeUpFromAnotherThreadEndsTheWait() async throws {
        let waiter = ChangeWaiter(notifications: false, wakeable: true)
        let waited = Task.detached { ContinuousClock().measure { waiter.wait(timeout: Self.long) } }
        try await Task.sleep(for: .milliseconds(50))
        waiter.wake()
        #expect(await waited.value < Self.long)
    }

    @Test func aWakeUpBeforeTheWaitIsNotLost() {
        let waiter = ChangeWaiter(notifications: false, wakeable: true)
        waiter.wake()
        #expect(ContinuousClock().measure { waiter.wait(timeout: Self.long) } < Self.long)
    }

    @Test func aNewFileInAWatchedFolderEndsTheWait() async throws {
        let waiter = ChangeWaiter(notifications: true)
        try #require(waiter.usesNotifications, "inotify is available on Linux")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-cw-\(UUID().uuidString)").path
        try FileSystem.makeDirectory(dir)
        defer { FileSystem.remove(dir) }
        waiter.watch(dir)
        let waited = Task.detached { ContinuousClock().measure { waiter.wait(timeout: Self.long) } }
        try await Task.sleep(for: .milliseconds(50))
        try FileSystem.write(Array("x".utf8), to: FileSystem.join(dir, "new"))
        #expect(await waited.value < Self.long)
    }

    @Test func pollingOnlyReturnsAfterTheInterval() {
        let waiter = ChangeWaiter(notifications: false)
        #expect(!waiter.usesNotifications)
        let elapsed = ContinuousClock().measure { waiter.wait(timeout: .milliseconds(20)) }
        #expect(elapsed >= .milliseconds(20))
    }
}
