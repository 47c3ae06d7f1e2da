import FerrySupport
import Foundation

extension ClientRole {
    /// Writes the round's config of a received task to `config.json` in its folder (`{}` when the
    /// server sent none), before `task.json` commits the task's arrival.
    /// - Throws: ``RuntimeError/badMessage(_:)`` when the config is not a JSON object.
    func writeRoundConfig(_ json: String?, task: String, in taskDirectory: String) throws {
        let text = json ?? "{}"
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), object is [String: Any] else {
            throw RuntimeError.badMessage("task \(task): the round config in the task message is not a JSON object")
        }
        try AtomicFile.write(Data((text + "\n").utf8), to: FileSystem.join(taskDirectory, ClientFiles.roundConfig))
    }

    /// The task's `config.json`, or "" for a task received before this version wrote one.
    func roundConfigPath(_ taskDirectory: String) -> String {
        let path = FileSystem.join(taskDirectory, ClientFiles.roundConfig)
        return FileSystem.exists(path) ? path : ""
    }
}
