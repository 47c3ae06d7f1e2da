/// Errors of the watcher, the workflows and the local federation.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    /// A state file could not be read.
    case fileUnreadable(path: String, reason: String)
    /// A file or folder could not be written.
    case fileUnwritable(path: String, reason: String)
    /// The workspace is not usable by the watcher.
    case workspace(path: String, reason: String)
    /// A message arrived that cannot be handled.
    case badMessage(String)
    /// Another watcher already runs on this workspace.
    case alreadyRunning(path: String, pid: Int32)
    /// The local federation could not be set up or run.
    case federation(String)

    public var description: String {
        switch self {
        case let .fileUnreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .fileUnwritable(path, reason):
            return "\(path): \(reason)"
        case let .workspace(path, reason):
            return "workspace \(path): \(reason)"
        case let .badMessage(text):
            return "bad message: \(text)"
        case let .alreadyRunning(path, pid):
            return "a watcher (pid \(pid)) already runs on \(path); stop it first, or remove \(path)/watcher.pid if that process is gone"
        case let .federation(text):
            return text
        }
    }
}
