import FerrySupport
import Foundation

/// The process of one executor run, recorded (``ExecutorInvocation/processRecordPath``) before the
/// executor may run, so that a watcher restarted after a crash can find an executor its predecessor left
/// running and kill it before it runs the task again (``stopLeftovers(recordedAt:timeout:)``).
///
/// A process belongs to the run when it is the recorded leader (same pid, start time and boot) or when
/// its environment holds the run's ``token`` as `FERRY_EXECUTOR_ID` (children inherit it). Linux only:
/// elsewhere nothing is found.
public struct ExecutorProcessRecord: Codable, Sendable, Equatable {
    /// The executor's pid, also its process group id (it leads its own group).
    public var pid: Int32
    /// The process group id.
    public var processGroup: Int32
    /// The leader's start time in clock ticks since boot (`/proc/<pid>/stat` field 22), when readable.
    public var startTime: UInt64?
    /// `/proc/sys/kernel/random/boot_id` when the executor started, when readable.
    public var bootID: String?
    /// The random id in the executor's environment (`FERRY_EXECUTOR_ID`).
    public var token: String
    /// When it started.
    public var startedAt: Date

    /// The environment variable that carries ``token``.
    public static let tokenVariable = "FERRY_EXECUTOR_ID"

    /// A new random token.
    static func newToken() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// The record of the running leader `pid` (its start time read now).
    init(pid: Int32, token: String, startedAt: Date = Date()) {
        self.pid = pid
        self.processGroup = pid
        self.startTime = ProcessTable.status(pid)?.startTime
        self.bootID = ProcessTable.bootID
        self.token = token
        self.startedAt = startedAt
    }

    /// The live processes of this run: `(pid, process group)`.
    func liveProcesses() -> [(pid: Int32, group: Int32)] {
        let mark = Self.tokenVariable + "=" + token
        let me = getpid()
        var found: [(pid: Int32, group: Int32)] = []
        for candidate in ProcessTable.processIDs() where candidate != me {
            guard let status = ProcessTable.status(candidate), status.isLive else { continue }
            let isLeader = candidate == pid && startTime != nil && status.startTime == startTime
                && bootID == ProcessTable.bootID
            if isLeader || ProcessTable.environment(of: candidate, contains: mark) {
                found.append((candidate, status.processGroup))
            }
        }
        return found
    }

    /// Why leftovers could not be stopped.
    public enum StopFailure: Error, CustomStringConvertible {
        /// The record exists but cannot be read.
        case unreadable(path: String, reason: String)
        /// Processes of the old run survived SIGKILL for the whole timeout.
        case stillAlive(pids: [Int32], path: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason):
                return "cannot read the executor record \(path): \(reason); remove it once no executor of that task runs"
            case let .stillAlive(pids, path):
                return "the executor started earlier (\(path)) is still alive after SIGKILL: "
                    + "pid(s) \(pids.map(String.init).joined(separator: ", ")) (stuck in the kernel, e.g. on a hung "
                    + "network filesystem?); the task runs again once they are gone"
            }
        }
    }

    /// Kills (SIGKILL, the whole process group and every process carrying the token) what is left of the
    /// run recorded at `path` and waits until none of it is alive (zombies count as gone).
    /// - Returns: how many processes were found alive (0 when there is no record).
    /// - Throws: ``StopFailure`` when the record is unreadable or processes survive `timeout`.
    @discardableResult
    public static func stopLeftovers(recordedAt path: String, timeout: Duration = .seconds(10)) throws(StopFailure) -> Int {
        let record: ExecutorProcessRecord
        do {
            guard let found = try JSONFile.readIfPresent(ExecutorProcessRecord.self, from: path) else { return 0 }
            record = found
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        let deadline = ContinuousClock.now + timeout
        var first: Int?
        while true {
            let live = record.liveProcesses()
            if first == nil { first = live.count }
            if live.isEmpty { return first ?? 0 }
            if ContinuousClock.now >= deadline { throw .stillAlive(pids: live.map(\.pid), path: path) }
            for (pid, group) in live {
                // The group id cannot name another group while a member of ours is in it.
                if group == record.processGroup { _ = kill(-group, SIGKILL) }
                _ = kill(pid, SIGKILL)
            }
            usleep(10_000)
        }
    }
}
