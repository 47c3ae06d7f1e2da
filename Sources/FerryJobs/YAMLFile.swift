import Foundation
import Yams

/// Reads one YAML file safely: size limit before reading, UTF-8 check, event scan against
/// ``YAMLLimits``, then composition into a Yams node tree.
package enum YAMLFile {
    /// The composed root node, or the diagnostics that prevented it (`display` names the file in them).
    package static func load(path: String, display: String, limits: YAMLLimits = .standard) -> Result<Node, JobValidationFailure> {
        func fail(_ line: Int, _ column: Int, _ message: String, _ hint: String) -> Result<Node, JobValidationFailure> {
            .failure(JobValidationFailure(diagnostics: [
                Diagnostic(file: display, line: line, column: column, message: message, hint: hint),
            ]))
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return fail(1, 1, "file not found", "create it; see docs/job-format.md for its fields")
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular else {
            return fail(1, 1, "not a regular file", "replace it with a YAML text file")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= limits.maxFileBytes else {
            return fail(1, 1, "file is \(size) bytes, over the limit of \(limits.maxFileBytes) bytes",
                        "job YAML files are small; move data into files under the job folder")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return fail(1, 1, "cannot open the file for reading", "check its permissions")
        }
        defer { try? handle.close() }
        // Read at most one byte past the limit, in case the file grew since it was measured.
        let data = (try? handle.read(upToCount: limits.maxFileBytes + 1)) ?? Data()
        guard data.count <= limits.maxFileBytes else {
            return fail(1, 1, "file is over the limit of \(limits.maxFileBytes) bytes",
                        "job YAML files are small; move data into files under the job folder")
        }
        return parse(bytes: [UInt8](data), display: display, limits: limits)
    }

    /// Parses in-memory YAML text under the same rules as ``load(path:display:limits:)``.
    static func parse(bytes: [UInt8], display: String, limits: YAMLLimits) -> Result<Node, JobValidationFailure> {
        func fail(_ line: Int, _ column: Int, _ message: String, _ hint: String) -> Result<Node, JobValidationFailure> {
            .failure(JobValidationFailure(diagnostics: [
                Diagnostic(file: display, line: line, column: column, message: message, hint: hint),
            ]))
        }
        guard bytes.count <= limits.maxFileBytes else {
            return fail(1, 1, "file is \(bytes.count) bytes, over the limit of \(limits.maxFileBytes) bytes",
                        "job YAML files are small; move data into files under the job folder")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return fail(1, 1, "file is not valid UTF-8 text", "save the file as UTF-8")
        }
        if let problem = YAMLEventScan.check(bytes, limits: limits) {
            return fail(problem.line, problem.column, problem.message, problem.hint)
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                return fail(1, 1, "file is empty", "add the required fields; see docs/job-format.md")
            }
            return .success(node)
        } catch let error as YamlError {
            return .failure(JobValidationFailure(diagnostics: [diagnostic(error, display: display)]))
        } catch {
            return fail(1, 1, "cannot parse YAML: \(error)", "check the file's syntax")
        }
    }

    private static func diagnostic(_ error: YamlError, display: String) -> Diagnostic {
        switch error {
        case let .duplicatedKeysInMapping(duplicates, context):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return Diagnostic(file: display, line: context.mark.line, column: context.mark.column,
                              message: "duplicate key \(names) in the same mapping",
                              hint: "keep one of them; later ones would silently override earlier ones")
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return Diagnostic(file: display, line: mark.line, column: mark.column, message: "invalid YAML: \(problem)",
                              hint: "check the indentation, colons and quotes at this position")
        default:
            return Diagnostic(file: display, line: 1, column: 1, message: "cannot parse YAML: \(error)",
                              hint: "check the file's syntax")
        }
    }
}
