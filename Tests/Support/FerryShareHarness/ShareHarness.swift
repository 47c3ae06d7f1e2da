import Foundation

/// A real network share for tests: `scripts/share.sh start` into a temporary folder (a private sshd on
/// 127.0.0.1 exports `export/`, mounted twice with sshfs's default caching at `a/` and `b/`).
///
/// Where FUSE or sshd cannot work (no /dev/fuse, not allowed to mount, no apt), ``start(for:)`` prints
/// `SKIPPED <test>: <reason>` and returns nil; the test then returns without asserting anything.
/// Setting `FERRY_SKIP_SHARE_TESTS=1` skips them the same way.
public final class ShareHarness: @unchecked Sendable {
    /// The temporary folder holding the share's state, the export and both mount points.
    public let root: String
    /// The first mount of the share.
    public var a: String { root + "/a" }
    /// The second mount of the same folder.
    public var b: String { root + "/b" }

    private init(root: String) { self.root = root }

    /// `scripts/share.sh` of this checkout.
    public static let script = DaemonScript.path("share.sh")

    /// Starts a share for `test`, or prints why it cannot and returns nil.
    public static func start(for test: String) -> ShareHarness? {
        if ProcessInfo.processInfo.environment["FERRY_SKIP_SHARE_TESTS"] == "1" {
            print("SKIPPED \(test): FERRY_SKIP_SHARE_TESTS=1")
            return nil
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-share-\(UUID().uuidString)").path
        let (status, output) = run(["start", root])
        guard status == 0 else {
            let reason = output.split(separator: "\n").last.map(String.init) ?? "scripts/share.sh exited with \(status)"
            print("SKIPPED \(test): no network share here: \(reason)")
            try? FileManager.default.removeItem(atPath: root)
            return nil
        }
        return ShareHarness(root: root)
    }

    /// Unmounts both mounts, stops the share's sshd and removes the folder.
    public func stop() {
        let (status, output) = Self.run(["stop", root])
        if status == 0 {
            try? FileManager.default.removeItem(atPath: root + "/export")
            try? FileManager.default.removeItem(atPath: root)
        } else {
            print("scripts/share.sh stop \(root) failed: \(output)")
        }
    }

    /// Runs `scripts/share.sh ARGS`, returning its status and its output (stdout and stderr).
    private static func run(_ arguments: [String]) -> (Int32, String) {
        DaemonScript.run(script, arguments)
    }
}
