import Foundation
import Mustache

/// The `job/` tree of a template, read once and checked: plain files and folders only, names that
/// stay inside the output, mustache files parsed.
struct TemplateTree: Sendable {
    /// Files whose name ends with this are rendered with mustache (and lose the suffix).
    static let mustacheSuffix = ".mustache"
    /// Most entries a template's job/ tree may hold.
    static let maxEntries = 10_000
    /// Deepest folder nesting in job/.
    static let maxDepth = 32
    /// Largest mustache file.
    static let maxMustacheBytes = 1 << 20

    enum Content: Sendable {
        case folder
        case copy(source: String)
        case render(MustacheTemplate)
    }

    struct Entry: Sendable {
        /// Path components under job/, each possibly holding mustache tags.
        var components: [String]
        /// The source path, for messages.
        var source: String
        var content: Content
        /// Permission bits to give the output (a script's executable bit survives).
        var permissions: Int
    }

    /// Entries in walk order: a folder comes before everything inside it.
    let entries: [Entry]

    init(root: String) throws(TemplateError) {
        var entries: [Entry] = []
        try Self.walk(root, components: [], into: &entries)
        self.entries = entries
    }

    private static func walk(_ folder: String, components: [String], into entries: inout [Entry]) throws(TemplateError) {
        guard components.count < maxDepth else {
            throw .unsafePath(file: folder, reason: "folders nested deeper than \(maxDepth) levels")
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted() } catch {
            throw .io(path: folder, operation: "list the folder", reason: "\(error.localizedDescription)")
        }
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            guard entries.count < maxEntries else {
                throw .unsafePath(file: path, reason: "more than \(maxEntries) files and folders in job/")
            }
            let attributes: [FileAttributeKey: Any]
            do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
                throw .io(path: path, operation: "read the file's attributes", reason: "\(error.localizedDescription)")
            }
            let permissions = ((attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o644) & 0o777
            let type = attributes[.type] as? FileAttributeType
            let here = components + [name]
            switch type {
            case .typeDirectory?:
                entries.append(Entry(components: here, source: path, content: .folder, permissions: 0o755))
                try walk(path, components: here, into: &entries)
            case .typeRegular?:
                if name.hasSuffix(mustacheSuffix), name.count > mustacheSuffix.count {
                    var renamed = here
                    renamed[renamed.count - 1] = String(name.dropLast(mustacheSuffix.count))
                    entries.append(Entry(components: renamed, source: path, content: .render(try parse(path)),
                                         permissions: permissions | 0o600))
                } else {
                    entries.append(Entry(components: here, source: path, content: .copy(source: path),
                                         permissions: permissions | 0o600))
                }
            case .typeSymbolicLink?:
                throw .unsafePath(file: path, reason: "symbolic links are not allowed in templates (it could point outside the job)")
            default:
                throw .unsafePath(file: path, reason: "not a regular file or folder")
            }
        }
    }

    private static func parse(_ path: String) throws(TemplateError) -> MustacheTemplate {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io(path: path, operation: "read the file", reason: "permission denied or file vanished")
        }
        guard data.count <= maxMustacheBytes else {
            throw .unsafePath(file: path, reason: "mustache file of \(data.count) bytes, over the limit of \(maxMustacheBytes)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .mustacheSyntax(file: path, line: 1, column: 1, problem: "the file is not UTF-8 text")
        }
        return try parseMustache(text, file: path)
    }

    /// Parses mustache `text` in plain-text mode; errors carry the line and column in `text`.
    static func parseMustache(_ text: String, file: String) throws(TemplateError) -> MustacheTemplate {
        do {
            return try MustacheTemplate(string: MustacheText.plain(text))
        } catch let error as MustacheTemplate.ParserError {
            throw .mustacheSyntax(file: file, line: max(1, error.context.lineNumber - 1), column: error.context.columnNumber,
                                  problem: "\(error.error)")
        } catch {
            throw .mustacheSyntax(file: file, line: 1, column: 1, problem: "\(error)")
        }
    }
}
