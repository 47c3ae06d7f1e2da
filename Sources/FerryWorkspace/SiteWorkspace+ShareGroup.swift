import FerrySupport

/// Share groups (docs/workspaces.md, "Share groups"): the sites whose inboxes lie below one folder of
/// one share, to which a broadcast writes its chunks once (docs/transfer-protocol.md, section 14).
extension SiteWorkspace {
    /// The value of `share_group:` that turns share groups off.
    public static let shareGroupOff = "off"

    /// The root of this site's share group, absolute: `share_group:` resolved against `share:`, or the
    /// share root when only `share:` is set; nil when there is none or it is `off`.
    public var shareGroupRoot: String? {
        switch config.shareGroup {
        case Self.shareGroupOff?: return nil
        case let group?: return FileSystem.absolute(SharePath.resolve(group, share: config.share))
        case nil: return config.share.map { FileSystem.absolute($0) }
        }
    }

    /// The sites (this one and its peers) whose inboxes lie strictly below ``shareGroupRoot``, sorted.
    public var shareGroupMembers: [String] {
        guard let root = shareGroupRoot else { return [] }
        var inboxes = peers.mapValues(\.inbox)
        inboxes[name] = inboxDirectory
        return inboxes.filter { Self.isBelow($0.value, root: root) }.map(\.key).sorted()
    }

    /// Whether `path` lies strictly below `root` (by path components; no symlinks resolved).
    public static func isBelow(_ path: String, root: String) -> Bool {
        let p = FileSystem.absolute(path).split(separator: "/")
        let r = FileSystem.absolute(root).split(separator: "/")
        return p.count > r.count && Array(p.prefix(r.count)) == r
    }
}

extension SiteWorkspace {
    /// The sites of `inboxes` (site name → inbox as recorded: absolute or share-relative) that lie in
    /// this site's share group, sorted.
    public func shareGroupMembers(of inboxes: [String: String]) -> [String] {
        guard let root = shareGroupRoot else { return [] }
        return inboxes.filter { Self.isBelow(SharePath.resolve($0.value, share: config.share), root: root) }.map(\.key).sorted()
    }

    /// One line for `ferry sites` and `ferry federation show`: the share group and its members.
    public func shareGroupSummary(members: [String]) -> String {
        guard let root = shareGroupRoot else {
            return "share group: none (a broadcast writes one copy per inbox; set share_group: in \(siteFile))"
        }
        guard members.count >= 2 else {
            return "share group: \(root): \(members.isEmpty ? "no site" : members.joined(separator: ", ")) (fewer than two inboxes there: a broadcast writes one copy per inbox)"
        }
        return "share group: \(root): \(members.joined(separator: ", ")) (a broadcast to them writes its chunks once, in \(root)/.ferry-broadcast/)"
    }
}
