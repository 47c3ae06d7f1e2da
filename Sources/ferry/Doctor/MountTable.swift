import FerrySupport

/// The mount holding a path, from /proc/self/mounts (Linux); nil elsewhere or when unreadable.
enum MountTable {
    static func mount(of path: String) -> ShareMount? {
        guard let bytes = try? FileSystem.readIfPresent("/proc/self/mounts", limit: 4 << 20) else { return nil }
        let resolved = realPath(path) ?? path
        var best: ShareMount?
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ").map { unescape(String($0)) }
            guard fields.count >= 4 else { continue }
            let point = fields[1]
            let inside = point == "/" || resolved == point || resolved.hasPrefix(point + "/")
            // Later lines are mounted over earlier ones: the last, longest match wins.
            if inside, point.count >= (best?.mountPoint.count ?? 0) {
                best = ShareMount(type: fields[2], mountPoint: point, source: fields[0], options: fields[3])
            }
        }
        return best
    }

    /// Whether `type` names a file system whose writes other hosts make (no inotify for them).
    static func isNetwork(_ type: String) -> Bool {
        let network = ["nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "lustre", "gpfs", "afs", "beegfs", "virtiofs"]
        return network.contains(type) || type.hasPrefix("fuse.") || type == "fuse"
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// /proc/self/mounts writes space, tab, newline and backslash as octal escapes (`\040`).
    private static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var out = [UInt8]()
        let bytes = Array(field.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let value = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
