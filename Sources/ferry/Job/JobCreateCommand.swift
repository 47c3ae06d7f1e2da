import ArgumentParser
import FerrySupport
import FerryTemplates
import Foundation

/// `ferry job create DIR --template NAME [--set KEY=VALUE]... [--sweep KEY=V1,V2]...`.
struct JobCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a job folder (or a sweep of job folders) from a template.",
        discussion: """
        Renders the template into DIR and validates the result as `ferry job validate` would. DIR must \
        not exist yet (or be empty); the job is written to a hidden folder beside it and renamed into \
        place only when it is complete and valid, so a failure leaves nothing behind. The job's name is \
        DIR's last component (lowercased).

        --set KEY=VALUE sets a variable; `ferry job templates NAME` lists them with their types and \
        defaults. A value is parsed by the variable's type (int, number, string, bool, duration such as \
        10m, size such as 8MiB, enum, list a,b,c, sites: a count or names); an unknown name or a wrong \
        value is refused, naming the variable.

        --sweep KEY=V1,V2,... renders one job per combination of all sweeps under DIR, each folder \
        named after its values, e.g. DIR/quantization-fp16_rounds-3; --set values apply to every job. \
        `ferry poc DIR` and `ferry submit DIR` accept such a folder of jobs.

        In the built-in templates, `quantization` sets the default of both directions (to_clients and \
        to_server): --sweep quantization=fp16,nf4 quantizes both ways; a direction given with --set \
        wins over it.

        Examples:
          ferry job create runs/first --template fedavg
          ferry job create runs/long --template fedavg --set rounds=20 --set clients=4
          ferry job create runs/q --template fedavg \\
              --sweep quantization=fp16,nf4 --sweep rounds=3,5
          ferry job create runs/py --template fedavg-python --set python=python3.12
          ferry job create runs/mine --template ./my-template
        """
    )

    @Argument(help: ArgumentHelp("The job folder to create (for a sweep: the folder that will hold one job per combination).",
                                 valueName: "DIR"))
    var directory: String

    @Option(name: .customLong("template"), help: ArgumentHelp("The template's name, or a path to a template folder.", valueName: "NAME"))
    var templateName: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Set a template variable (repeatable).", valueName: "KEY=VALUE"))
    var assignments: [String] = []

    @Option(name: .customLong("sweep"), help: ArgumentHelp("Render one job per value, combined with the other sweeps (repeatable).",
                                                             valueName: "KEY=V1,V2"))
    var sweeps: [String] = []

    @OptionGroup var search: TemplateSearchOptions

    /// A wrong --set / --sweep is a usage error (exit 2), printed without the generic usage block.
    private static func usageError(_ error: TemplateError) -> ExitCode {
        StandardError.write("ferry: \(error)\n")
        return FerryExit.usage
    }

    func run() async throws {
        let given: [TemplateAssignment]
        let axes: [SweepAxis]
        do {
            given = try assignments.map { text throws(TemplateError) in try TemplateAssignment.parse(text, option: "--set") }
            axes = try sweeps.map { text throws(TemplateError) in try SweepAxis.parse(text) }
        } catch {
            throw Self.usageError(error)
        }
        let template = try search.library().find(templateName)
        let renderer = try TemplateRenderer(template: template)
        do {
            if axes.isEmpty {
                let rendered = try renderer.render(into: directory, assignments: given)
                print("created \(rendered.directory): " + JobValidateCommand.summary(rendered.job))
            } else {
                let jobs = try renderer.renderSweep(into: directory, assignments: given, sweep: axes)
                print("created \(jobs.count) jobs in \(directory) from the template '\(template.name)':")
                for job in jobs {
                    print("  \((job.directory as NSString).lastPathComponent): " + JobValidateCommand.summary(job.job))
                }
            }
        } catch let error {
            switch error {
            case .unknownVariable, .invalidValue, .duplicateVariable, .sweepOverList, .sweepNameCollision:
                throw Self.usageError(error)
            default:
                throw error
            }
        }
    }
}
