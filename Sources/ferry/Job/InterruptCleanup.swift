import FerrySupport
import FerryArchive
import Foundation
import Synchronization

/// On SIGINT or SIGTERM, removes the staging folder of a running unpack, then exits
/// (130 or 143, the shell's convention), so an interrupted `ferry job unpack` leaves nothing behind.
enum InterruptCleanup {
    private static let handlers = Mutex<SignalHandlers?>(nil)
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
        handlers.withLock { handlers in
            guard handlers == nil else { return }
            handlers = SignalHandlers.install([SIGINT, SIGTERM]) { sig in
                received.store(sig, ordering: .releasing)
                JobArchive.removeUnfinishedUnpacks()
                Syscall.terminate(128 + sig)
            }
        }
    }
}
