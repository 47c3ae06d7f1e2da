import Dispatch
import FerrySupport

/// The CLI's signal handling, one place for every command: `signals` stop having their default action
/// and `handler` runs on a dispatch queue for each one that arrives.
///
/// ``install(_:handler:)`` returns only once the handlers are registered with the kernel (a dispatch
/// source registers asynchronously, and a signal that lands in between would be ignored): a command
/// that has installed them may tell the world it is running (create a folder a test or a user
/// watches) and know an interrupt will be handled.
final class SignalHandlers: Sendable {
    private nonisolated(unsafe) let sources: [any DispatchSourceSignal]

    private init(sources: [any DispatchSourceSignal]) { self.sources = sources }

    /// Installs `handler` for `signals`; it gets the signal's number.
    static func install(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) -> SignalHandlers {
        var sources: [any DispatchSourceSignal] = []
        let registered = DispatchSemaphore(value: 0)
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { handler(sig) }
            source.setRegistrationHandler { registered.signal() }
            source.resume()
            sources.append(source)
        }
        for _ in signals { registered.wait() }
        return SignalHandlers(sources: sources)
    }

    /// Removes a cleanup's files and exits with 128 + the signal (the shell's convention).
    static func exitAfter(_ cleanup: @escaping @Sendable () -> Void) -> @Sendable (Int32) -> Void {
        { sig in
            cleanup()
            Syscall.terminate(128 + sig)
        }
    }
}
