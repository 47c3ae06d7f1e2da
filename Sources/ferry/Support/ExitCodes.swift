import ArgumentParser

/// Exit codes: 0 success, 1 failure, 2 usage error (ArgumentParser's own for bad arguments).
enum FerryExit {
    /// The command ran and found a problem (invalid job, refused archive, failed transfer).
    static let failure = ExitCode(1)
    /// The command line itself was wrong.
    static let usage = ExitCode(2)
}
