import FerrySupport
import Foundation
import Logging
import Synchronization

/// Writes a watcher's heartbeat (``Heartbeat``) on its own thread, about once per poll period: a long
/// pass (an aggregation, an unpack) does not silence the site, and a full or hung share never stops or
/// wedges the watcher (a failed write is skipped and logged once, until a write succeeds again).
final class HeartbeatWriter: Sendable {
    /// What the heartbeat says about the site itself.
    struct Identity: Sendable {
        var site: String
        var role: String
        /// The site's own inbox and workspace (their free space is reported).
        var ownInbox: String
        var workspace: String
        /// The inbox the heartbeat is written into: the server's.
        var destinationInbox: String
    }

    let identity: Identity
    /// Time between two writes.
    let interval: Duration
    private let logger: Logger
    private let instance = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    private let startedAt = Date()
    private let tasks = Mutex<[Heartbeat.Task]>([])
    /// The sequence of the last write, and the problem last logged (nil when the last write worked).
    private let writing = Mutex<(sequence: UInt64, problem: String?)>((0, nil))
    private let waiter = ChangeWaiter(notifications: false, wakeable: true)
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)

    /// Heartbeats every `pollInterval`, kept between 100 ms and 30 s so a site polling rarely still
    /// shows it lives well inside any grace period.
    init(identity: Identity, pollInterval: Duration, logger: Logger) {
        self.identity = identity
        self.interval = min(max(pollInterval, .milliseconds(100)), .seconds(30))
        self.logger = logger
    }

    /// The heartbeat file written.
    var path: String? { Heartbeat.path(inbox: identity.destinationInbox, site: identity.site) }

    /// Starts the writing thread (once).
    func start() {
        guard !started.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let thread = Thread { [self] in
            while !stopping.load(ordering: .sequentiallyConsistent) {
                write()
                waiter.wait(timeout: interval)
            }
        }
        thread.name = "ferry-heartbeat"
        thread.start()
    }

    /// Stops the thread after its current write; does not wait for it (a write hung on a share must
    /// not hold up the watcher's exit).
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        waiter.wake()
    }

    /// What the site runs now (called by the watcher after every pass).
    func update(tasks running: [Heartbeat.Task]) {
        tasks.withLock { $0 = running }
    }

    /// Writes the next heartbeat now.
    /// - Returns: whether it was written.
    @discardableResult
    func write() -> Bool {
        writing.withLock { state in
            let sequence = state.sequence + 1
            do {
                try writeFile(sequence: sequence)
                state.sequence = sequence
                if state.problem != nil { logger.info("heartbeat: written again to \(path ?? "")") }
                state.problem = nil
                return true
            } catch {
                let problem = DiskSpace.isFull(error) ? "the disk is full" : "\(error)"
                if state.problem != problem {
                    logger.warning("heartbeat: cannot write it (\(problem)); skipped until it can be written again")
                }
                state.problem = problem
                return false
            }
        }
    }

    private func writeFile(sequence: UInt64) throws {
        guard let path else {
            throw RuntimeError.fileUnwritable(path: identity.destinationInbox, reason: "the site name '\(identity.site)' cannot be a heartbeat file name; rename the site")
        }
        guard FileSystem.isDirectory(identity.destinationInbox) else {
            // Never create the inbox itself: an unmounted share would get a local folder in its place.
            throw RuntimeError.fileUnwritable(path: identity.destinationInbox, reason: "the server's inbox is not reachable; check that the share is mounted")
        }
        let folder = FileSystem.join(identity.destinationInbox, Heartbeat.folder)
        if !FileSystem.isDirectory(folder) { try FileSystem.makeDirectory(folder) }
        let heartbeat = Heartbeat(
            site: identity.site, role: identity.role, instance: instance, sequence: sequence, time: Date(),
            startedAt: startedAt, bootID: HostDurability.bootID, host: Syscall.hostName(), pid: getpid(),
            version: FerryVersion.current, intervalSeconds: interval.seconds,
            inbox: Heartbeat.Space(measuring: identity.ownInbox), workspace: Heartbeat.Space(measuring: identity.workspace),
            tasks: tasks.withLock { $0 })
        var data = try JSONFile.encoder().encode(heartbeat)
        data.append(0x0A)
        // Not fsynced: a heartbeat lost with a host crash is simply written again.
        try AtomicFile.write(data, to: path, durable: false)
    }
}
