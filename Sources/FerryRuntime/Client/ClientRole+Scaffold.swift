import FerryAggregation
import FerrySupport
import Foundation

/// SCAFFOLD at a client (docs/runtime.md, "scaffold"): a task whose model arrives as a
/// ``ScaffoldBundle`` is split into the model and the global control variate c; the executor gets c,
/// the site's own cᵢ and a path for Δcᵢ; after it succeeds the site's cᵢ becomes cᵢ + Δcᵢ and the
/// result goes back as the bundle of the trained model and Δcᵢ.
///
/// cᵢ lives in `jobs/<id>/control-local.safetensors` (zeros before the first task). Each task works
/// from its own copy (`tasks/<task>/control-local.safetensors`, taken when it first starts), so a task
/// run again after a restart starts from the same cᵢ even if the site's cᵢ was already updated.
extension ClientRole {
    enum ScaffoldFiles {
        /// c, as received with the task.
        static let global = "control-global.safetensors"
        /// cᵢ: in the job folder the site's current one; in a task folder the one the task starts from.
        static let local = "control-local.safetensors"
        /// Δcᵢ, written by the executor.
        static let delta = "control-delta.safetensors"
        /// The result bundle: the output model and Δcᵢ.
        static let result = "output-scaffold.safetensors"
    }

    /// Puts a received task model at `input.safetensors`, splitting off c when it is a bundle.
    func placeTaskInput(_ received: String, in taskDirectory: String) throws {
        let input = FileSystem.join(taskDirectory, "input.safetensors")
        if try ScaffoldBundle.isBundle(received) {
            try ScaffoldBundle.split(received, model: input, control: FileSystem.join(taskDirectory, ScaffoldFiles.global))
        } else {
            try FileSystem.linkReplacing(received, to: input)
        }
    }

    /// Before a scaffold task's executor starts: its copy of cᵢ (once) and no leftovers of an earlier attempt.
    func prepareControlVariates(job: String, taskDirectory: String) throws {
        guard FileSystem.exists(FileSystem.join(taskDirectory, ScaffoldFiles.global)) else { return }
        for leftover in [ScaffoldFiles.delta, ScaffoldFiles.result] { FileSystem.remove(FileSystem.join(taskDirectory, leftover)) }
        let snapshot = FileSystem.join(taskDirectory, ScaffoldFiles.local)
        guard !FileSystem.exists(snapshot) else { return }
        let current = FileSystem.join(jobDirectory(job), ScaffoldFiles.local)
        if FileSystem.exists(current) {
            try FileSystem.copy(current, to: snapshot)
        } else {
            try ControlVariates.zeros(like: FileSystem.join(taskDirectory, ScaffoldFiles.global), into: snapshot)
        }
    }

    /// The `FERRY_CONTROL_*` variables of a scaffold task (empty for other tasks).
    func controlVariateEnvironment(_ taskDirectory: String) -> [String: String] {
        guard FileSystem.exists(FileSystem.join(taskDirectory, ScaffoldFiles.global)) else { return [:] }
        return ["FERRY_CONTROL_GLOBAL": FileSystem.join(taskDirectory, ScaffoldFiles.global),
                "FERRY_CONTROL_LOCAL": FileSystem.join(taskDirectory, ScaffoldFiles.local),
                "FERRY_CONTROL_DELTA": FileSystem.join(taskDirectory, ScaffoldFiles.delta)]
    }

    /// After a scaffold task's executor succeeded: updates the site's cᵢ and writes the result bundle.
    /// - Returns: the error text that fails the task (no or a wrong Δcᵢ), nil when it may go on.
    func finishControlVariates(job: String, taskDirectory: String) -> String? {
        guard FileSystem.exists(FileSystem.join(taskDirectory, ScaffoldFiles.global)) else { return nil }
        let delta = FileSystem.join(taskDirectory, ScaffoldFiles.delta)
        guard FileSystem.exists(delta) else {
            return "scaffold: the executor wrote no control variate change at FERRY_CONTROL_DELTA (\(delta)); "
                + "write Δc_i there (ferry.send(..., control_delta=...) in ferry's Python package; docs/executor-contract.md)"
        }
        do {
            try ScaffoldBundle.join(model: FileSystem.join(taskDirectory, "output.safetensors"), control: delta,
                                    into: FileSystem.join(taskDirectory, ScaffoldFiles.result))
            try ControlVariates.add(FileSystem.join(taskDirectory, ScaffoldFiles.local), delta: delta,
                                    deltaLabel: "FERRY_CONTROL_DELTA", into: FileSystem.join(jobDirectory(job), ScaffoldFiles.local))
        } catch {
            return "scaffold: \(error)"
        }
        return nil
    }

    /// The file a task's result sends: the scaffold bundle when there is one, else the output model.
    func resultPayload(_ taskDirectory: String) -> String {
        let bundle = FileSystem.join(taskDirectory, ScaffoldFiles.result)
        return FileSystem.exists(bundle) ? bundle : FileSystem.join(taskDirectory, "output.safetensors")
    }

    /// Removes a task's control variate files once its result reached the server (the site's cᵢ stays).
    func releaseControlVariates(_ taskDirectory: String) {
        for name in [ScaffoldFiles.global, ScaffoldFiles.local, ScaffoldFiles.delta, ScaffoldFiles.result] {
            FileSystem.remove(FileSystem.join(taskDirectory, name))
        }
    }
}
