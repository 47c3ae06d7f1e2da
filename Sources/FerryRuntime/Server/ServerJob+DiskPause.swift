import FerrySupport
import Foundation

/// A full disk pauses a server job instead of failing it: the step that hit ENOSPC/EDQUOT left nothing
/// behind (every write is atomic) and is simply done again on a later pass, once there is room.
extension ServerJob {
    /// Free space the job needs to go on: the model it works on now (the next write is a model of the
    /// same size: an aggregate, a received result) plus a margin for state files and logs.
    var bytesNeededToContinue: Int64 {
        var paths = [state.plan.initialModel, state.currentModel]
        if state.round > 1 { paths.append(globalModelPath(state.round - 1)) }
        let model = paths.compactMap { $0 }.map(FileSystem.size).max() ?? 0
        return model + DiskPause.margin
    }

    /// Records that the job waits for disk space after `error` (a full disk) in `step`: in the job log
    /// once, and in `state.json`'s `paused` (retried on every pass while that write itself fails).
    func pause(after error: any Error, in step: PausedStep) {
        let folder = DiskSpace.folder(of: error) ?? directory
        let needed = bytesNeededToContinue
        let shortage = DiskSpaceShortage(folder: folder, needed: needed, available: DiskSpace.available(at: folder) ?? 0)
        let text = "waiting for disk space: \(shortage)"
        let key = "\(folder)|\(needed)"
        if pause?.key != key {
            logger.warning("paused: \(text) (\(error))")
            pause = (key: key, step: step, recorded: false)
        }
        guard pause?.recorded == false else { return }
        do {
            try store.update(id) { $0.paused = text }
            pause?.recorded = true
        } catch {
            logger.warning("cannot record the pause in state.json yet (\(error)); retrying")
        }
    }

    /// A client's notice that its task waits for disk space: its site state and the job's `paused`
    /// say so until its result arrives (``accept(_:)``), and the round's deadline no longer passes for
    /// that task (``deadlineHeld(round:sites:task:)``): a full disk is waited out, not timed out.
    func clientPaused(site: String, task: String, reason: String) throws {
        guard state.plan.sites.contains(site), !isFinished else { return }
        logger.warning("\(site): task \(task) paused: \(reason)")
        let key = "\(site)|\(task)"
        if state.phase == .running, !(state.pausedTasks ?? []).contains(key) {
            state.pausedTasks = (state.pausedTasks ?? []) + [key]
            try save()
        }
        try store.update(id) { file in
            file.sites[site] = "paused (\(task)): \(reason)"
            if file.paused == nil || file.paused?.hasPrefix("\(site): ") == true { file.paused = "\(site): \(reason)" }
        }
    }

    /// Whether the deadline of the current round (or cyclic step) is held: one of `sites`, which have no
    /// outcome yet, said its task (`task(site)`) waits for disk space. The round then waits for its
    /// result (or `ferry abort`); `ferry status` shows the pause. Said once in the job log.
    func deadlineHeld(round: Int, sites: [String], task: (String) -> String) -> Bool {
        let held = sites.filter { (state.pausedTasks ?? []).contains("\($0)|\(task($0))") }
        guard !held.isEmpty else { return false }
        let keys = Set(held.map { "\($0)|\(task($0))" })
        if !keys.isSubset(of: reportedHeldTasks) {
            reportedHeldTasks.formUnion(keys)
            logger.warning("round \(round): past its deadline, still waiting for \(held.joined(separator: ", ")): paused for disk space (a paused task stops the round's clock)")
        }
        return true
    }

    /// Clears the pause once `step`, the step that hit the full disk, went through: the job continues
    /// where it stopped.
    func resumeIfPaused(_ step: PausedStep) throws {
        guard let pause, pause.step == step else { return }
        try store.update(id) { $0.paused = nil }
        self.pause = nil
        logger.info("disk space is back: the job continues")
    }
}

/// The step of a server job that hit a full disk.
enum PausedStep: Equatable {
    /// A pass of the workflow (``ServerJob/drive(now:)``).
    case drive
    /// Storing a received message (a result linked into the round folder).
    case message
}

/// Constants of the disk-full handling.
enum DiskPause {
    /// Room kept for state files, logs and messages beside the models (1 MiB).
    static let margin: Int64 = 1 << 20
}
