import FerrySupport

/// Paths recorded relative to a share root (docs/workspaces.md, "Share-relative paths"): a path that
/// does not start with `/` is relative to the `share:` of the site.yaml that uses it, so each site maps
/// one share to its own mount point. Absolute paths (as `ferry provision` writes) are used as they are.
public enum SharePath {
    /// The absolute path of `path` on a site whose share is mounted at `share`. A relative path with no
    /// share is taken as it is (relative to the current folder), which only `resolve(_:share:in:)` refuses.
    public static func resolve(_ path: String, share: String?) -> String {
        guard !path.hasPrefix("/"), let share else { return path }
        return FileSystem.join(share, path)
    }

    /// Like ``resolve(_:share:)``, but a relative path without a share is an error naming `file`.
    public static func resolve(_ path: String, share: String?, in file: String) throws(FederationError) -> String {
        if !path.hasPrefix("/") && share == nil {
            throw .workspace(path: file, reason: "the path '\(path)' is relative to the share, but there is no `share:` key",
                             hint: "add `share: /mount/point/of/the/share` to \(file)")
        }
        return resolve(path, share: share)
    }

    /// `path` as recorded on a site whose share is at `share`: relative to the share when it lies
    /// inside it, else absolute.
    public static func record(_ path: String, share: String?) -> String {
        let absolute = FileSystem.absolute(path)
        guard let share else { return absolute }
        let root = FileSystem.absolute(share)
        if absolute == root { return "." }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : absolute
    }
}
