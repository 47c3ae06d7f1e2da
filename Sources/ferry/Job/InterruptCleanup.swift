import FerrySupport
import FerryArchive
import Foundation
import Synchronization

/// On SIGINT or SIGTERM, removes the staging folder of a running unpack, then exits
/// (130 or 143, the shell's convention), so an interrupted `ferry job unpack` leaves nothing behind.
enum InterruptCleanup {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let received = Atomic<Int32>(0)

    /// The exit status of the signal being handled (128 + its number), nil when none arrived. The
    /// command's own failure caused by the cleanup (its staging folder vanished) must not win the
    /// race to exit with 1.
    static var interruptedExitCode: Int32? {
        let signal = received.load(ordering: .acquiring)
        return signal == 0 ? nil : 128 + signal
    }

    /// Installs the handlers (once per process; later calls do nothing).
    static func install() {
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                received.store(sig, ordering: .releasing)
                JobArchive.removeUnfinishedUnpacks()
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
