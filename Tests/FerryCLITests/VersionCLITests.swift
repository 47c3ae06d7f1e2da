import Testing

/// `ferry --version` and the completion scripts the release archive installs (scripts/release.sh).
@Suite struct VersionCLITests {
    /// A plain `swift build` has no release stamp: the version, then `(dev)` where a release build
    /// names its commit.
    @Test func versionNamesTheBuild() throws {
        let r = try FerryCLI.run(["--version"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.wholeMatch(of: /\d+\.\d+\.\d+ \(dev\)\n/) != nil, "\(r.stdout)")
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsAreGenerated(shell: String) throws {
        let r = try FerryCLI.run(["--generate-completion-script", shell])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("ferry") && r.stdout.contains("poc"), "\(shell): \(r.stdout.prefix(200))")
    }
}
