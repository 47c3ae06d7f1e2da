import FerrySupport
import Foundation

/// The server's disk footprint is bounded by the model, not by the rounds (docs/workspaces.md): what a
/// committed round no longer needs is removed, and after the job only its archive (which holds the
/// initial model) and the final model stay.
extension ServerJob {
    /// After round `round` is committed (`workflow.json` moved on): removes the round's client results
    /// and the global model of the round before, unless the server app says `keep: rounds`.
    func releaseRound(_ round: Int) {
        removeModels(in: roundDirectory(round))
        if state.plan.keepRounds != true, round > 1 {
            FileSystem.remove(globalModelPath(round - 1))
            FileSystem.remove(optimizerStatePath(round - 1))
            FileSystem.remove(controlStatePath(round - 1))
        }
        // Round 1 sent the initial model; the archive keeps it (the unpacked copy is not needed again).
        if round == 1, let initial = state.plan.initialModel { FileSystem.remove(initial) }
    }

    /// After the job ended: every round's client results, the unpacked job (the archive keeps it), and
    /// unless `keep: rounds` the round models. The final model stays; a job that did not complete keeps
    /// its latest global model instead.
    func releaseAfterEnd() {
        for name in FileSystem.list(runtimeDirectory) where name.hasPrefix("round-") {
            removeModels(in: FileSystem.join(runtimeDirectory, name))
        }
        FileSystem.remove(FileSystem.join(runtimeDirectory, "job.unpacked"))
        FileSystem.remove(FileSystem.join(runtimeDirectory, "job"))
        guard state.plan.keepRounds != true else { return }
        let models = FileSystem.join(directory, "models")
        let rounds = FileSystem.list(models).compactMap { name -> Int? in
            guard name.hasPrefix("global-round-"), name.hasSuffix(".safetensors") else { return nil }
            return Int(name.dropFirst("global-round-".count).dropLast(".safetensors".count))
        }
        let latest = FileSystem.exists(finalModelPath) ? nil : rounds.max()
        for round in rounds where round != latest { FileSystem.remove(globalModelPath(round)) }
    }

    private func removeModels(in folder: String) {
        for name in FileSystem.list(folder) where name.hasSuffix(".safetensors") {
            FileSystem.remove(FileSystem.join(folder, name))
        }
    }
}
