import ArgumentParser
import FerryRuntime
import FerrySupport
/// The `ferry` command: file-based federated learning.
@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "File-based federated learning: jobs, model streaming and quantization over shared folders.",
        discussion: """
        Jobs are YAML folders packed into archives, deployed into per-site workspace folders, and run by a \
        watcher on each site that streams model files chunk by chunk through site folders or mounted shares \
        (NFS, SMB, any POSIX share), quantizing them on the way.

        Start with:
          ferry poc jobs/hello-fedavg                  run a job on a throwaway local federation
          ferry job validate jobs/hello-fedavg         check a job folder
          ferry job create runs/a --template fedavg    a new job from a template
          ferry model synth m.safetensors --like tiny-mlp
          ferry model quantize m.safetensors q.safetensors --format nf4

        Every command has --help with examples. Formats and protocols: docs/ in the repository.
        """,
        version: BuildStamp.versionText,
        subcommands: [
            JobCommand.self,
            ModelCommand.self,
            TransferCommand.self,
            BenchCommand.self,
            ProvisionCommand.self,
            SiteCommand.self,
            FederationCommand.self,
            SubmitCommand.self,
            JobsCommand.self,
            StatusCommand.self,
            SitesCommand.self,
            AbortCommand.self,
            ApprovalsCommand.self,
            ApproveCommand.self,
            RejectCommand.self,
            LogsCommand.self,
            DownloadCommand.self,
            CloneCommand.self,
            DeleteCommand.self,
            WatchCommand.self,
            PocCommand.self,
            ReportCommand.self,
            DoctorCommand.self,
        ]
    )
}

extension Ferry {
    /// Runs the command line with ferry's exit codes: 0 success, 1 failure, 2 usage error.
    static func main() async {
        let code: Int32
        var parsed: ParsableCommand.Type?
        do {
            var command = try parseAsRoot()
            parsed = type(of: command)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            code = 0
        } catch let error as ValidationError where parsed != nil {
            // A usage problem found while running a subcommand: show that subcommand's usage, not the root's.
            let usage = helpMessage(for: parsed!).split(separator: "\n", omittingEmptySubsequences: false)
                .drop { !$0.hasPrefix("USAGE:") }.prefix { !$0.isEmpty }.joined(separator: "\n")
            let path = usage.dropFirst("USAGE: ".count).split(separator: " ")
                .prefix { !$0.hasPrefix("<") && !$0.hasPrefix("[") && !$0.hasPrefix("-") }.joined(separator: " ")
            StandardError.write("Error: \(error.message)\n\(usage)\n  See '\(path) --help' for more information.\n")
            code = FerryExit.usage.rawValue
        } catch {
            // An error caused by an interrupt's cleanup is not the command's failure: exit as interrupted.
            code = InterruptCleanup.interruptedExitCode ?? report(error)
        }
        Syscall.terminate(InterruptCleanup.interruptedExitCode ?? code)
    }

    /// Prints `error` the way a user needs it and returns the exit code.
    private static func report(_ error: any Error) -> Int32 {
        let argumentCode = exitCode(for: error)
        if argumentCode == .success {
            // --help, --version: ArgumentParser's message goes to stdout.
            let message = fullMessage(for: error)
            if !message.isEmpty { print(message) }
            return 0
        }
        if let exit = error as? ExitCode { return exit.rawValue }
        if argumentCode == .validationFailure {
            StandardError.write(fullMessage(for: error) + "\n")
            return FerryExit.usage.rawValue
        }
        // Typed ferry errors carry their own explanation; no "Error:" noise on top of FILE:LINE:COL lines.
        StandardError.write("ferry: \(String(describing: error))\n")
        return FerryExit.failure.rawValue
    }
}
