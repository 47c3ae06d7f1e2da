import Foundation
@testable import FerryTemplates

/// Temporary folders and small templates written by the tests.
enum TemplateFixtures {
    /// The repository's built-in templates/ folder, found from this source file.
    static let builtInFolder: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path

    static let builtInNames = ["cyclic", "fedavg", "fedavg-python", "llm-sft"]

    /// The repository's python/ folder: ferry's Python package, which the Python templates import.
    static let pythonPackageFolder: String = URL(fileURLWithPath: builtInFolder)
        .deletingLastPathComponent().appendingPathComponent("python").path

    /// A fresh temporary folder.
    static func temporaryFolder(_ label: String = "tpl") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `files` (relative path → contents) under `root`, creating folders.
    static func write(_ files: [String: String], under root: String) throws {
        for (relative, text) in files {
            let path = (root as NSString).appendingPathComponent(relative)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
    }

    static let miniManifest = """
    name: mini
    description: A minimal test template.
    variables:
      rounds:
        type: int
        default: 2
        min: 1
        help: Rounds.
      folder:
        type: string
        default: extra
        help: Name of an extra folder.
      with_notes:
        type: bool
        default: false
        help: Ship NOTES.txt.
    """

    /// A small valid template: job.yaml, a server and a client app using `echo`.
    static func miniTemplateFiles(manifest: String = miniManifest) -> [String: String] {
        [
            "template.yaml": manifest,
            "job/job.yaml.mustache": """
            name: {{job_name}}
            min_clients: 1
            deploy:
              server: [server]
              client: all
            """,
            "job/apps/server/app.yaml.mustache": "workflow: fedavg\nrounds: {{rounds}}\n",
            "job/apps/client/app.yaml": "executor:\n  command: [echo, \"{site}\"]\n",
        ]
    }

    /// Writes the mini template as `<parent>/<name>` and returns its folder.
    @discardableResult
    static func writeMini(in parent: String, name: String = "mini", extra: [String: String] = [:]) throws -> String {
        let folder = (parent as NSString).appendingPathComponent(name)
        var files = miniTemplateFiles(manifest: miniManifest.replacingOccurrences(of: "name: mini", with: "name: \(name)"))
        for (k, v) in extra { files[k] = v }
        try write(files, under: folder)
        return folder
    }

    /// Names in `folder` (to check that nothing was left behind).
    static func contents(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    static func builtIn(_ name: String) throws -> JobTemplate {
        try TemplateLibrary(folders: [.init(path: builtInFolder, origin: "built-in")]).find(name)
    }
}
