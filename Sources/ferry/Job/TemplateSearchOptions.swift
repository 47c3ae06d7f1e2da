import ArgumentParser
import FerryRuntime
import FerryTemplates
import Foundation

/// `--templates DIR`, shared by the template commands.
struct TemplateSearchOptions: ParsableArguments {
    @Option(name: .customLong("templates"),
            help: ArgumentHelp("A folder of templates searched before $FERRY_TEMPLATES and the built-in templates/ (repeatable).",
                               valueName: "DIR"))
    var folders: [String] = []

    /// The search path: --templates, then $FERRY_TEMPLATES, then the built-in templates/ folder.
    func library() throws -> TemplateLibrary {
        try TemplateLibrary.locate(options: folders, environment: ProcessInfo.processInfo.environment,
                                   executable: Self.executablePath,
                                   currentDirectory: FileManager.default.currentDirectoryPath)
    }

    /// /proc/self/exe on Linux, the loader's path elsewhere (argv[0] names no folder when found on PATH).
    private static var executablePath: String? {
        LocalFederation.currentExecutable ?? CommandLine.arguments.first.map { URL(fileURLWithPath: $0).path }
    }
}
