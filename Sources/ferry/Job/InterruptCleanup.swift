import FerrySupport
import FerryArchive
import Foundation

/// On SIGINT or SIGTERM, removes the staging folder of a running unpack, then exits
/// (130 or 143, the shell's convention), so an interrupted `ferry job unpack` leaves nothing behind.
enum InterruptCleanup {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Installs the handlers (once per process; later calls do nothing).
    static func install() {
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                JobArchive.removeUnfinishedUnpacks()
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
