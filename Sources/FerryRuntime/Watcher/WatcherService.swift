import Foundation
import Logging
import ServiceLifecycle

/// Runs a ``Watcher`` as a swift-service-lifecycle service: SIGTERM and SIGINT trigger a graceful
/// shutdown (the watcher finishes its current step, stops its executors, and exits; whatever was
/// interrupted resumes on the next start).
public struct WatcherService: Service {
    /// The watcher being run.
    public let watcher: Watcher

    /// Wraps `watcher`.
    public init(watcher: Watcher) { self.watcher = watcher }

    public func run() async throws {
        let watcher = self.watcher
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    do {
                        try watcher.run()
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "ferry-watcher"
                thread.start()
            }
        } onGracefulShutdown: {
            watcher.stop()
        }
    }

    /// Runs `watcher` until SIGTERM or SIGINT.
    public static func runUntilSignalled(_ watcher: Watcher) async throws {
        let logger = Logger(label: "ferry.watch") { _ in SwiftLogNoOpLogHandler() }
        // A watcher that stops by itself (--once, --exit-when-idle, --max-runtime) ends the group cleanly.
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: WatcherService(watcher: watcher), successTerminationBehavior: .gracefullyShutdownGroup)],
            logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
    }
}
