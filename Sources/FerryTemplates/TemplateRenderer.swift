import FerryJobs
import FerrySupport
import Foundation
import Mustache

/// One job folder written by ``TemplateRenderer``.
public struct RenderedJob: Sendable {
    /// Where the job folder is.
    public let directory: String
    /// The validated job.
    public let job: JobFolder
    /// Every variable's value used.
    public let values: TemplateValues
    /// The sweep values of this job (empty for a single render), in `--sweep` order.
    public let sweepValues: [TemplateAssignment]
}

/// Renders a template into job folders.
///
/// Output goes to a hidden staging folder beside the destination, is validated with
/// ``FerryJobs/JobFolder/load(directory:limits:displayName:)``, and is renamed into place only when
/// everything rendered and validated: a failure leaves nothing behind. Rendered names must be plain
/// names (no `/`, not `.` or `..`), so nothing is ever written outside the destination.
public struct TemplateRenderer: Sendable {
    /// The template being rendered.
    public let template: JobTemplate
    let tree: TemplateTree

    /// Reads `template`'s job/ tree, refusing links and special files and parsing every mustache file.
    public init(template: JobTemplate) throws(TemplateError) {
        self.template = template
        self.tree = try TemplateTree(root: template.jobDirectory)
    }

    /// Renders one job into `directory` (which must not exist, or be empty) with `assignments`.
    /// The job is named after the folder (`job_name`).
    public func render(into directory: String, assignments: [TemplateAssignment]) throws(TemplateError) -> RenderedJob {
        let values = try TemplateValues(template: template, assignments: assignments)
        let name = JobNameText.from((directory as NSString).lastPathComponent) ?? template.name
        let staging = try Staging(destination: directory)
        do {
            try write(values: values, jobName: name, into: staging.path, display: directory)
            try staging.publish()
        } catch {
            staging.discard()
            throw error
        }
        return try reload(directory, values: values, sweep: [])
    }

    /// Renders one job per combination of `sweep` values under `directory`, each folder named after its
    /// values (`quantization-fp16_rounds-3`); `assignments` apply to all. All or nothing.
    public func renderSweep(into directory: String, assignments: [TemplateAssignment],
                            sweep: [SweepAxis]) throws(TemplateError) -> [RenderedJob] {
        let plan = try SweepPlan(axes: sweep, template: template, fixed: assignments)
        let base = JobNameText.from((directory as NSString).lastPathComponent) ?? template.name
        var resolved: [(folder: String, values: TemplateValues, combo: [TemplateAssignment])] = []
        for combo in plan.combinations {
            let values = try TemplateValues(template: template, assignments: assignments + combo.assignments)
            resolved.append((combo.folderName, values, combo.assignments))
        }
        let staging = try Staging(destination: directory)
        do {
            for item in resolved {
                let path = (staging.path as NSString).appendingPathComponent(item.folder)
                try Self.makeFolder(path)
                let name = JobNameText.from(base + "-" + item.folder) ?? template.name
                try write(values: item.values, jobName: name, into: path,
                          display: (directory as NSString).appendingPathComponent(item.folder))
            }
            try staging.publish()
        } catch {
            staging.discard()
            throw error
        }
        var jobs: [RenderedJob] = []
        for item in resolved {
            jobs.append(try reload((directory as NSString).appendingPathComponent(item.folder), values: item.values, sweep: item.combo))
        }
        return jobs
    }

    private func reload(_ directory: String, values: TemplateValues, sweep: [TemplateAssignment]) throws(TemplateError) -> RenderedJob {
        do {
            return RenderedJob(directory: directory, job: try JobFolder.load(directory: directory), values: values, sweepValues: sweep)
        } catch {
            throw .invalidRenderedJob(template: template.name, failure: error)
        }
    }

    /// Writes the rendered tree into the existing folder `root`, then validates it (`display` names it in errors).
    func write(values: TemplateValues, jobName: String, into root: String, display: String) throws(TemplateError) {
        let context = values.mustacheContext(template: template, jobName: jobName)
        var skipped: [[String]] = []
        for entry in tree.entries {
            if skipped.contains(where: { entry.components.starts(with: $0) }) { continue }
            var relative: [String] = []
            var empty = false
            for component in entry.components {
                let name = try renderName(component, context: context, source: entry.source)
                if name.isEmpty { empty = true; break }
                relative.append(name)
            }
            // A name that renders empty drops the file (or folder) from this job: conditional files.
            if empty { skipped.append(entry.components); continue }
            let path = FileSystem.join(root, relative.joined(separator: "/"))
            switch entry.content {
            case .folder:
                try Self.makeFolder(path)
            case .copy(let source):
                try Self.copy(source, to: path, permissions: entry.permissions)
            case .render(let mustache):
                let text = mustache.render(context)
                try Self.writeFile(Data(text.utf8), to: path, permissions: entry.permissions)
            }
        }
        do {
            _ = try JobFolder.load(directory: root, displayName: display)
        } catch {
            throw .invalidRenderedJob(template: template.name, failure: error)
        }
    }

    /// Renders one path component and checks that it is a plain name.
    private func renderName(_ component: String, context: [String: Any], source: String) throws(TemplateError) -> String {
        guard component.contains("{{") else { return component }
        let name = try TemplateTree.parseMustache(component, file: source).render(context)
        if name.isEmpty { return name }
        if name == "." || name == ".." || name.contains("/") || name.contains("\0") || name.contains("\n") {
            throw .unsafePath(file: source, reason: "its name renders to '\(name)', which is not a plain file name")
        }
        return name
    }

    static func makeFolder(_ path: String) throws(TemplateError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) } catch {
            throw .io(path: path, operation: "create the folder", reason: "\(error.localizedDescription)")
        }
    }

    static func writeFile(_ data: Data, to path: String, permissions: Int) throws(TemplateError) {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw .unsafePath(file: path, reason: "two template files render to the same name")
        }
        do {
            try AtomicFile.write(data, to: path)
            try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        } catch {
            throw .io(path: path, operation: "write the file", reason: "\(error)")
        }
    }

    static func copy(_ source: String, to path: String, permissions: Int) throws(TemplateError) {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw .unsafePath(file: path, reason: "two template files render to the same name")
        }
        do {
            try FileManager.default.copyItem(atPath: source, toPath: path)
            try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        } catch {
            throw .io(path: path, operation: "copy \(source)", reason: "\(error.localizedDescription)")
        }
    }
}

/// A hidden folder beside the destination that is renamed into place when complete.
struct Staging {
    let destination: String
    let path: String
    /// Folders above the destination that did not exist, deepest first.
    let createdParents: [String]

    init(destination: String) throws(TemplateError) {
        let fm = FileManager.default
        if let contents = try? fm.contentsOfDirectory(atPath: destination), !contents.isEmpty {
            throw .outputExists(path: destination)
        }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: destination, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw .outputExists(path: destination)
        }
        let standardized = (destination as NSString).standardizingPath
        let parent = (standardized as NSString).deletingLastPathComponent
        let name = (standardized as NSString).lastPathComponent
        let parentPath = parent.isEmpty ? "." : parent
        // Parent folders created here are removed again by discard() (if still empty).
        var missing: [String] = []
        var ancestor = parentPath
        while !fm.fileExists(atPath: ancestor), ancestor != "/", !ancestor.isEmpty {
            missing.append(ancestor)
            ancestor = (ancestor as NSString).deletingLastPathComponent
        }
        do { try fm.createDirectory(atPath: parentPath, withIntermediateDirectories: true) } catch {
            throw .io(path: parentPath, operation: "create the folder", reason: "\(error.localizedDescription)")
        }
        self.createdParents = missing
        self.destination = destination
        self.path = (parentPath as NSString).appendingPathComponent(".\(name).ferry-create-\(UUID().uuidString.prefix(8))")
        try TemplateRenderer.makeFolder(path)
    }

    /// Moves the staged folder to the destination (an empty destination folder is replaced).
    func publish() throws(TemplateError) {
        let fm = FileManager.default
        if let contents = try? fm.contentsOfDirectory(atPath: destination) {
            guard contents.isEmpty else { throw .outputExists(path: destination) }
            try? fm.removeItem(atPath: destination)
        }
        guard rename(path, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            throw .io(path: destination, operation: "move the rendered job into place", reason: reason)
        }
        AtomicFile.syncDirectory(.init((destination as NSString).deletingLastPathComponent))
    }

    func discard() {
        try? FileManager.default.removeItem(atPath: path)
        for folder in createdParents where rmdir(folder) != 0 { break }
    }
}

/// Job names from folder names: lowercase, other characters turned into '-', at most 64.
enum JobNameText {
    static func from(_ text: String) -> String? {
        var out = ""
        for scalar in text.lowercased().unicodeScalars {
            let ok = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || "._-".unicodeScalars.contains(scalar)
            let c: Character = ok ? Character(scalar) : "-"
            if c == "-", out.hasSuffix("-") { continue }
            out.append(c)
        }
        while let first = out.unicodeScalars.first, !(("a"..."z").contains(first) || ("0"..."9").contains(first)) {
            out.removeFirst()
        }
        out = String(out.prefix(64))
        while out.hasSuffix("-") || out.hasSuffix(".") { out.removeLast() }
        return JobNames.isValid(out) ? out : nil
    }
}
