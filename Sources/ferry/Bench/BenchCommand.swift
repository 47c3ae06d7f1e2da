import ArgumentParser

/// `ferry bench …`: benchmarks, printed as ratios to a baseline measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, reported as ratios to a baseline (memcpy, cp) measured in the same run.",
        subcommands: [
            BenchQuantCommand.self,
            BenchTransferCommand.self,
            BenchAggregateCommand.self,
            BenchFederationCommand.self,
        ]
    )
}
