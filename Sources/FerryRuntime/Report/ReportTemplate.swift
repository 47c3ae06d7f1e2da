import Foundation
import Mustache

/// The mustache template `ferry report` renders its page with: the built-in one
/// (``DefaultReportTemplate``) or a user's file. Values are HTML-escaped by mustache (`{{name}}`);
/// chart markup is inserted raw (`{{{svg}}}`). docs/report-template.md lists the variables.
public struct ReportTemplate: Sendable {
    /// Where the template came from (a file path, or `built-in`), for messages.
    public let source: String
    let mustache: MustacheTemplate

    /// Templates larger than this are refused (a report template is a few kilobytes).
    public static let maxBytes = 1 << 20

    /// The built-in template.
    public static let builtIn: ReportTemplate = {
        do {
            return try ReportTemplate(text: DefaultReportTemplate.text, source: "built-in")
        } catch {
            preconditionFailure("the built-in report template does not parse: \(error)")
        }
    }()

    /// Parses `text`; `source` names it in errors.
    public init(text: String, source: String) throws(ReportTemplateError) {
        self.source = source
        do {
            mustache = try MustacheTemplate(string: text)
        } catch let error as MustacheTemplate.ParserError {
            throw .syntax(file: source, line: error.context.lineNumber, column: error.context.columnNumber,
                          problem: Self.explain(error.error))
        } catch {
            throw .syntax(file: source, line: 1, column: 1, problem: "\(error)")
        }
    }

    /// Reads and parses the template file at `path`.
    public init(file path: String) throws(ReportTemplateError) {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let type = attributes[.type] as? FileAttributeType, type == .typeDirectory {
                throw ReportTemplateError.unreadable(file: path, reason: "it is a folder; give a .mustache file")
            }
            if let size = attributes[.size] as? Int, size > Self.maxBytes {
                throw ReportTemplateError.unreadable(file: path, reason: "\(size) bytes, over the limit of \(Self.maxBytes)")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as ReportTemplateError {
            throw error
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? error.localizedDescription : "no such file"
            throw .unreadable(file: path, reason: reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(file: path, reason: "it is not UTF-8 text")
        }
        try self.init(text: text, source: path)
    }

    /// The page for `page`.
    func render(_ page: ReportPage) -> String { mustache.render(page) }

    private static func explain(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "\(error)" }
        switch error {
        case .sectionCloseNameIncorrect: return "a closing {{/name}} does not match the section it closes"
        case .unfinishedName: return "a tag is not closed with }}"
        case .expectedSectionEnd: return "a section {{#name}} or {{^name}} is never closed with {{/name}}"
        case .invalidSetDelimiter: return "a set-delimiter tag {{=<% %>=}} is malformed"
        case .transformAppliedToInheritanceSection: return "a transform is applied to an inheritance section"
        case .illegalTokenInsideInheritSection: return "an inheritance section holds a tag it cannot"
        case .textInsideInheritSection: return "an inheritance section holds text outside its blocks"
        case .invalidConfigVariableSyntax: return "a {{% … }} pragma is malformed"
        case .unrecognisedConfigVariable: return "a {{% … }} pragma is not one swift-mustache knows"
        }
    }
}
