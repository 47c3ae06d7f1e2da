import Foundation
import Testing
import FerryJobs

/// A job folder written from relative path → text into a fresh temporary directory.
struct JobFixture {
    let directory: String

    /// The files of a valid job; tests override or remove entries.
    static let valid: [String: String] = [
        "job.yaml": """
        name: t
        min_clients: 2
        deploy:
          server: [server]
          client: all
        """,
        "apps/server/app.yaml": """
        workflow: fedavg
        rounds: 2
        round_timeout: 1h30m
        transfer:
          chunk: 512KiB
        """,
        "apps/client/app.yaml": """
        executor:
          command: [train, "{input_model}", "{output_model}", "{result}"]
          timeout: 90s
        """,
    ]

    init(_ files: [String: String?] = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-jobs-\(UUID().uuidString)").path
        var all = Self.valid.mapValues { Optional($0) }
        for (path, text) in files { all[path] = text }
        for (path, text) in all {
            guard let text else { continue }
            let full = directory + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Loads the folder, expecting failure; returns the diagnostics.
    func diagnostics(limits: YAMLLimits = .standard, sourceLocation: SourceLocation = #_sourceLocation) -> [Diagnostic] {
        do {
            _ = try JobFolder.load(directory: directory, limits: limits)
            Issue.record("expected validation errors, the job loaded", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.diagnostics
        }
    }
}

/// Expects one diagnostic in `file` (relative to the job folder) at `line`:`column` whose message
/// contains `message` and whose hint contains `hint`.
func expectDiagnostic(_ diagnostics: [Diagnostic], _ file: String, _ line: Int, _ column: Int,
                      _ message: String, hint: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let found = diagnostics.contains {
        $0.file.hasSuffix("/" + file) && $0.line == line && $0.column == column
            && $0.message.contains(message) && (hint.isEmpty || $0.hint.contains(hint))
    }
    #expect(found, "no \(file):\(line):\(column) '\(message)' (hint '\(hint)') among:\n\(diagnostics.map(\.description).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
}
