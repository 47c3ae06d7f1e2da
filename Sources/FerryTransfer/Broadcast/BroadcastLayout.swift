import FerrySupport

/// Where the shared area of a broadcast lives and how an inbox names it (docs/transfer-protocol.md,
/// section 14): `<share root>/.ferry-broadcast/<transfer-id>/`, named from each inbox by a path of
/// `..` components only, so it resolves on every host that mounts the share, wherever the mount is.
enum BroadcastLayout {
    /// The folder of shared areas under a share root.
    static let folder = ".ferry-broadcast"
    /// The per-recipient record in `INBOX/<transfer-id>/`.
    static let record = "broadcast"
    /// The most `..` components an area path may have.
    static let maxDepth = 64

    /// The absolute area of transfer `id` under the share root `root`.
    static func area(root: String, id: String) -> String {
        FileSystem.join(FileSystem.absolute(root), folder, id)
    }

    /// The area of `id` as seen from `inbox` (`../../.ferry-broadcast/<id>`), or nil when the inbox does
    /// not lie strictly below `root` (that inbox gets its own copy of the chunks).
    static func relativeArea(inbox: String, root: String, id: String) -> String? {
        let inboxParts = FileSystem.absolute(inbox).split(separator: "/")
        let rootParts = FileSystem.absolute(root).split(separator: "/")
        let depth = inboxParts.count - rootParts.count
        guard depth >= 1, depth <= maxDepth, Array(inboxParts.prefix(rootParts.count)) == rootParts,
              !inboxParts.contains(Substring(folder)) else { return nil }
        return String(repeating: "../", count: depth) + folder + "/" + id
    }

    /// Whether `path` is an area path a receiver may follow for transfer `id`: one to ``maxDepth``
    /// `../` components, then `.ferry-broadcast/<id>`; nothing else (no absolute path, no other name).
    static func isValidRelative(_ path: String, id: String) -> Bool {
        var rest = Substring(path)
        var depth = 0
        while rest.hasPrefix("../") {
            rest = rest.dropFirst(3)
            depth += 1
        }
        return depth >= 1 && depth <= maxDepth && rest == Substring(folder + "/" + id)
    }

    /// Removes areas under `root` other than `keep` whose folder has not changed for `idle` seconds:
    /// what a sender killed for good, or a recipient that never came back, left behind. A listing is
    /// fine here: a stale one only delays the cleanup.
    static func removeAbandoned(root: String, keep: String, idle: Double) {
        let parent = FileSystem.join(FileSystem.absolute(root), folder)
        let now = Syscall.realTime()
        for name in FileSystem.list(parent) where name != keep && TransferID(hex: name) != nil {
            let path = FileSystem.join(parent, name)
            if let info = FileSystem.info(path), now - info.modified > idle { FileSystem.remove(path) }
        }
    }
}
