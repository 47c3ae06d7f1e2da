import ArgumentParser
import FerryTemplates
import Foundation

/// `ferry job templates [NAME]`: lists templates, or shows one template's variables.
struct JobTemplatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "List job templates, or show the variables of one.",
        discussion: """
        Without NAME, lists every template with its description and the folder it comes from. With NAME, \
        shows each variable of that template: its type, its default and what it controls. Variables are \
        set with `ferry job create DIR --template NAME --set KEY=VALUE`.

        Templates are looked up in: each --templates DIR (in order), then the folders in $FERRY_TEMPLATES \
        (separated by ':'), then the built-in templates/ folder (found by walking up from the ferry \
        executable's folder, then from the current folder). A name found earlier hides the same name later. \
        How to write a template: docs/templates.md.

        Examples:
          ferry job templates
          ferry job templates fedavg
          ferry job templates --templates ~/my-templates
        """
    )

    @Argument(help: ArgumentHelp("A template to describe (omit to list them all).", valueName: "NAME"))
    var name: String?

    @OptionGroup var search: TemplateSearchOptions

    func run() async throws {
        let library = try search.library()
        if let name {
            try describe(library.find(name))
        } else {
            list(library)
        }
    }

    private func list(_ library: TemplateLibrary) {
        let listings = library.list()
        guard !listings.isEmpty else {
            print("no templates found; pass --templates DIR or set FERRY_TEMPLATES (see docs/templates.md)")
            return
        }
        let width = min(24, listings.map(\.name.count).max() ?? 0)
        for listing in listings {
            let padded = listing.name.padding(toLength: max(width, listing.name.count), withPad: " ", startingAt: 0)
            switch listing.template {
            case .success(let template):
                let note = listing.hidden ? " (hidden by the one above)" : ""
                print("\(padded)  \(template.description)")
                print(String(repeating: " ", count: width + 2) + "[\(listing.folder.origin): \(listing.folder.path)]\(note)")
            case .failure(let error):
                print("\(padded)  (cannot be loaded: \(String(describing: error).split(separator: "\n").first ?? ""))")
            }
        }
    }

    private func describe(_ template: JobTemplate) {
        print("\(template.name): \(template.description)")
        print("folder: \(template.directory)")
        print("")
        guard !template.variables.isEmpty else {
            print("no variables")
            return
        }
        let nameWidth = template.variables.map(\.name.count).max() ?? 0
        let typeWidth = min(40, template.variables.map(\.type.summary.count).max() ?? 0)
        print("VARIABLE".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
              + "TYPE".padding(toLength: typeWidth, withPad: " ", startingAt: 0) + "  DEFAULT")
        for variable in template.variables {
            let type = variable.type.summary
            print(variable.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                  + type.padding(toLength: max(typeWidth, type.count), withPad: " ", startingAt: 0) + "  "
                  + Self.defaultText(variable))
            print(String(repeating: " ", count: nameWidth + 2) + variable.help)
        }
        print("")
        print("Set with: ferry job create DIR --template \(template.name) --set NAME=VALUE [--sweep NAME=V1,V2]")
    }

    /// `fp16`, or `= clients_count` for a computed default.
    static func defaultText(_ variable: TemplateVariable) -> String {
        guard variable.hasComputedDefault else { return variable.defaultText.isEmpty ? "\"\"" : variable.defaultText }
        let inner = variable.defaultText.replacingOccurrences(of: "{{", with: "").replacingOccurrences(of: "}}", with: "")
        return "same as \(inner.trimmingCharacters(in: .whitespaces))"
    }
}
