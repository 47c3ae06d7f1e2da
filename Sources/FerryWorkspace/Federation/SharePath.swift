import FerrySupport

/// Paths recorded relative to a share root (docs/workspaces.md, "Share-relative paths"): a path that
/// does not start with `/` is relative to the `share:` of the site.yaml that uses it, so each site maps
/// one share to its own mount point. Absolute paths (as `ferry provision` writes) are used as they are.
public enum SharePath {
    /// The absolute path of `path` on a site whose share is mounted at `share`. A relative path with no
    /// share is returned as it is (`SiteWorkspace.open` refuses such a site.yaml).
    public static func resolve(_ path: String, share: String?) -> String {
        guard !path.hasPrefix("/"), let share else { return path }
        return FileSystem.join(share, path)
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
