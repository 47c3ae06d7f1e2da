import FerryRuntime

/// What `ferry --version` prints: the version and the commit it was built from.
enum BuildStamp {
    /// `0.1.0 (commit 376531c)` in a release build, `0.1.0 (dev)` in a plain `swift build`.
    static var versionText: String { "\(FerryVersion.current) (\(commitText))" }

    private static var commitText: String {
        releaseCommit.map { "commit \($0)" } ?? "dev"
    }
}

// scripts/release.sh builds with -DFERRY_RELEASE and writes BuildStamp.generated.swift (ignored by
// git), which defines `releaseCommit`; any other build has no commit to show.
#if !FERRY_RELEASE
extension BuildStamp {
    static let releaseCommit: String? = nil
}
#endif
