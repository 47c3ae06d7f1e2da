import FerryJobs
import Yams
import Foundation

/// A job template: a folder holding `template.yaml` (name, description, typed variables) and a `job/`
/// tree rendered with mustache into a job folder. The format is described in docs/templates.md.
public struct JobTemplate: Sendable {
    /// The template's name (its folder name).
    public let name: String
    /// One paragraph shown by `ferry job templates`.
    public let description: String
    /// The template folder.
    public let directory: String
    /// The variables, in the order template.yaml declares them (computed defaults see earlier ones).
    public let variables: [TemplateVariable]

    /// Names the renderer provides itself; a template cannot declare them.
    public static let builtInNames = ["job_name", "template_name"]

    /// The folder rendered into each job.
    public var jobDirectory: String { (directory as NSString).appendingPathComponent("job") }

    /// The variable called `name`, if declared.
    public func variable(named name: String) -> TemplateVariable? {
        variables.first { $0.name == name }
    }

    /// Creates a template from parts (tests and tools); ``load(directory:)`` reads one from disk.
    public init(name: String, description: String, directory: String, variables: [TemplateVariable]) {
        self.name = name
        self.description = description
        self.directory = directory
        self.variables = variables
    }

    /// Reads and checks the template in `directory`: template.yaml's fields and the `job/` folder.
    public static func load(directory: String) throws(TemplateError) -> JobTemplate {
        let manifest = (directory as NSString).appendingPathComponent("template.yaml")
        let folderName = (directory as NSString).lastPathComponent
        guard let info = try? FileManager.default.attributesOfItem(atPath: directory),
              info[.type] as? FileAttributeType == .typeDirectory else {
            throw .invalidTemplate(directory: directory, diagnostics: [Diagnostic(
                file: directory, line: 1, column: 1, message: "not a folder",
                hint: "a template is a folder holding template.yaml and job/")])
        }
        if let info = try? FileManager.default.attributesOfItem(atPath: manifest),
           info[.type] as? FileAttributeType == .typeSymbolicLink {
            throw .unsafePath(file: manifest, reason: "template.yaml is a symbolic link")
        }
        let root: Node
        switch YAMLFile.load(path: manifest, display: manifest) {
        case .success(let node): root = node
        case .failure(let failure): throw .invalidTemplate(directory: directory, diagnostics: failure.diagnostics)
        }
        let decoder = TemplateManifestDecoder(file: manifest, folderName: folderName)
        let decoded = decoder.decode(root)
        var diagnostics = decoder.diagnostics
        let job = (directory as NSString).appendingPathComponent("job")
        let jobType = (try? FileManager.default.attributesOfItem(atPath: job))?[.type] as? FileAttributeType
        if jobType != .typeDirectory {
            diagnostics.append(Diagnostic(file: job, line: 1, column: 1,
                                          message: jobType == .typeSymbolicLink ? "job/ is a symbolic link" : "the template has no job/ folder",
                                          hint: "put the files of the job (job.yaml.mustache, apps/…) under job/"))
        }
        guard diagnostics.isEmpty, let decoded else {
            throw .invalidTemplate(directory: directory, diagnostics: diagnostics)
        }
        return JobTemplate(name: decoded.name, description: decoded.description, directory: directory,
                           variables: decoded.variables)
    }
}

/// Reads template.yaml's node tree; collects every problem with its line and column.
final class TemplateManifestDecoder {
    static let topKeys = ["name", "description", "variables"]
    static let variableKeys = ["type", "default", "help", "choices", "min", "max"]

    let file: String
    let folderName: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String, folderName: String) {
        self.file = file
        self.folderName = folderName
    }

    struct Output {
        var name: String
        var description: String
        var variables: [TemplateVariable]
    }

    private func error(_ message: String, at node: Node?, hint: String) {
        diagnostics.append(Diagnostic(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1,
                                      message: message, hint: hint))
    }

    private func mapping(_ node: Node, what: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let map) = node else {
            error("\(what) must be a mapping of keys to values", at: node, hint: "write indented `key: value` lines")
            return nil
        }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        for (key, value) in map {
            guard let name = key.scalar?.string else {
                error("keys must be plain words", at: key, hint: "write `key: value`")
                continue
            }
            entries.append((name, key, value))
        }
        return entries
    }

    private func checkKeys(_ entries: [(key: String, keyNode: Node, value: Node)], allowed: [String], place: String) {
        for entry in entries where !allowed.contains(entry.key) {
            error("unknown key '\(entry.key)'\(place)", at: entry.keyNode, hint: Suggestion.hint(for: entry.key, among: allowed))
        }
    }

    func decode(_ root: Node) -> Output? {
        guard let top = mapping(root, what: "template.yaml") else { return nil }
        checkKeys(top, allowed: Self.topKeys, place: "")
        func value(_ key: String) -> Node? { top.first { $0.key == key }?.value }
        let name = value("name")?.scalar?.string
        if name == nil { error("missing required key 'name'", at: root, hint: "add `name: \(folderName)`") }
        if let name, name != folderName {
            error("name '\(name)' differs from the template's folder name '\(folderName)'", at: value("name"),
                  hint: "rename the folder or write `name: \(folderName)`; templates are found by folder name")
        }
        let description = value("description")?.scalar?.string ?? ""
        if description.isEmpty {
            error("missing 'description'", at: value("description") ?? root,
                  hint: "add `description: what the template sets up`; `ferry job templates` shows it")
        }
        var variables: [TemplateVariable] = []
        if let node = value("variables"), let entries = mapping(node, what: "'variables'") {
            for entry in entries {
                if let variable = decodeVariable(entry.key, keyNode: entry.keyNode, node: entry.value, earlier: variables) {
                    variables.append(variable)
                }
            }
        }
        guard let name else { return nil }
        return Output(name: name, description: description.trimmed, variables: variables)
    }

    private func decodeVariable(_ name: String, keyNode: Node, node: Node, earlier: [TemplateVariable]) -> TemplateVariable? {
        let place = " in variable '\(name)'"
        if !TemplateVariable.isValidName(name) {
            error("invalid variable name '\(name)'", at: keyNode, hint: "use lowercase letters, digits and '_', starting with a letter")
            return nil
        }
        if JobTemplate.builtInNames.contains(name) {
            error("'\(name)' is provided by ferry and cannot be declared", at: keyNode, hint: "remove it and use {{\(name)}} directly")
            return nil
        }
        if let clash = earlier.first(where: { ["\($0.name)_count", "\($0.name)_yaml"].contains(name) }) {
            error("'\(name)' clashes with a value derived from '\(clash.name)'", at: keyNode, hint: "choose another name")
            return nil
        }
        guard let entries = mapping(node, what: "variable '\(name)'") else { return nil }
        checkKeys(entries, allowed: Self.variableKeys, place: place)
        func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        guard let typeNode = value("type"), let typeName = typeNode.scalar?.string else {
            error("missing 'type'\(place)", at: keyNode, hint: "add `type:` one of " + VariableType.keywords.joined(separator: ", "))
            return nil
        }
        let type: VariableType
        switch typeName {
        case "int": type = .int(min: intBound(value("min"), name), max: intBound(value("max"), name))
        case "number": type = .number(min: numberBound(value("min"), name), max: numberBound(value("max"), name))
        case "string": type = .string
        case "bool": type = .bool
        case "duration": type = .duration
        case "size": type = .size
        case "list": type = .list
        case "sites": type = .sites
        case "enum":
            guard case .sequence(let seq)? = value("choices"), !seq.isEmpty,
                  case let words = seq.compactMap(\.scalar?.string), words.count == seq.count else {
                error("an enum needs `choices:`, a list of words\(place)", at: value("choices") ?? keyNode,
                      hint: "add e.g. `choices: [fp16, nf4]`")
                return nil
            }
            type = .choice(words)
        default:
            error("unknown type '\(typeName)'\(place)", at: typeNode, hint: Suggestion.hint(for: typeName, among: VariableType.keywords, noun: "types"))
            return nil
        }
        for key in ["min", "max"] where value(key) != nil && !["int", "number"].contains(typeName) {
            error("'\(key)' applies only to int and number variables\(place)", at: value(key), hint: "remove '\(key)'")
        }
        if value("choices") != nil && typeName != "enum" {
            error("'choices' applies only to enum variables\(place)", at: value("choices"), hint: "write `type: enum` or remove 'choices'")
        }
        let help = value("help")?.scalar?.string ?? ""
        if help.isEmpty { error("missing 'help'\(place)", at: keyNode, hint: "add `help:` one line saying what the variable controls") }
        guard let defaultNode = value("default") else {
            error("missing 'default'\(place)", at: keyNode, hint: "every variable has a default, so the template renders with no --set")
            return nil
        }
        let defaultText: String
        switch defaultNode {
        case .scalar(let scalar): defaultText = scalar.string
        case .sequence(let seq) where [.list, .sites].contains(type) && seq.allSatisfy({ $0.scalar != nil }):
            defaultText = seq.compactMap(\.scalar?.string).joined(separator: ",")
        default:
            error("'default'\(place) must be a single value", at: defaultNode, hint: "write the value as --set would")
            return nil
        }
        let variable = TemplateVariable(name: name, type: type, defaultText: defaultText, help: help.trimmed)
        if !variable.hasComputedDefault {
            do { _ = try TemplateValue.parse(defaultText, for: variable) } catch _ {
                error("the default '\(defaultText)' of '\(name)' is not \(type.expectation)", at: defaultNode,
                      hint: "give a default of the variable's type")
            }
        }
        return variable
    }

    private func intBound(_ node: Node?, _ name: String) -> Int? {
        guard let node else { return nil }
        guard let text = node.scalar?.string, let value = Int(text) else {
            error("'min'/'max' of '\(name)' must be whole numbers", at: node, hint: "write e.g. `min: 1`")
            return nil
        }
        return value
    }

    private func numberBound(_ node: Node?, _ name: String) -> Double? {
        guard let node else { return nil }
        guard let text = node.scalar?.string, let value = Double(text), value.isFinite else {
            error("'min'/'max' of '\(name)' must be numbers", at: node, hint: "write e.g. `min: 0`")
            return nil
        }
        return value
    }
}
