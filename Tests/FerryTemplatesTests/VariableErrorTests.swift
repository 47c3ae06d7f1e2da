import Foundation
import Testing
@testable import FerryTemplates

@Suite struct VariableErrorTests {
    @Test(arguments: [
        ("rounds", "abc"), ("rounds", "0"), ("round_timeout", "soon"), ("chunk", "big"),
        ("to_clients", "nf5"), ("clients", "0"), ("clients", "site-1,server"), ("learning_rate", "fast"),
    ])
    func wrongTypeNamesTheVariable(name: String, value: String) throws {
        let template = try TemplateFixtures.builtIn("fedavg")
        do {
            _ = try TemplateValues(template: template, assignments: [.init(name: name, value: value)])
            Issue.record("\(name)=\(value) was accepted")
        } catch {
            guard case let .invalidValue(variable, given, _, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(variable == name)
            #expect(given == value)
            #expect(error.description.contains("'\(name)'"))
        }
    }

    @Test func boolAndListValuesParse() throws {
        let flag = TemplateVariable(name: "flag", type: .bool, defaultText: "false", help: "h")
        #expect(try TemplateValue.parse("yes", for: flag) == .bool(true))
        #expect(try TemplateValue.parse("0", for: flag) == .bool(false))
        #expect(throws: TemplateError.self) { try TemplateValue.parse("maybe", for: flag) }
        let list = TemplateVariable(name: "args", type: .list, defaultText: "", help: "h")
        #expect(try TemplateValue.parse("a, b,c", for: list) == .list(["a", "b", "c"]))
        #expect(try TemplateValue.parse("", for: list) == .list([]))
    }

    @Test func unknownVariableSuggestsTheClosest() throws {
        let template = try TemplateFixtures.builtIn("fedavg")
        #expect {
            _ = try TemplateValues(template: template, assignments: [.init(name: "roundz", value: "3")])
        } throws: { error in
            guard case let .unknownVariable(name, templateName, suggestion, known)? = error as? TemplateError else { return false }
            return name == "roundz" && templateName == "fedavg" && suggestion == "rounds" && known.contains("chunk")
        }
    }

    @Test func sameVariableTwiceIsRefused() throws {
        let template = try TemplateFixtures.builtIn("fedavg")
        #expect(throws: TemplateError.duplicateVariable(name: "rounds")) {
            _ = try TemplateValues(template: template, assignments: [.init(name: "rounds", value: "3"), .init(name: "rounds", value: "4")])
        }
    }

    @Test func assignmentNeedsKeyAndEquals() throws {
        #expect(try TemplateAssignment.parse("a=b=c") == TemplateAssignment(name: "a", value: "b=c"))
        #expect(throws: TemplateError.malformedAssignment(text: "rounds", option: "--set")) { try TemplateAssignment.parse("rounds") }
        #expect(throws: TemplateError.malformedAssignment(text: "=3", option: "--set")) { try TemplateAssignment.parse("=3") }
    }

    @Test func computedDefaultThatDoesNotParseIsReported() throws {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        let manifest = TemplateFixtures.miniManifest + """

          copies:
            type: int
            default: "{{folder}}"
            help: Computed from a string, so it cannot parse.
        """
        try TemplateFixtures.write(TemplateFixtures.miniTemplateFiles(manifest: manifest), under: root + "/mini")
        let template = try JobTemplate.load(directory: root + "/mini")
        #expect(throws: TemplateError.invalidComputedDefault(variable: "copies", template: "mini", rendered: "extra",
                                                              expected: "a whole number")) {
            _ = try TemplateValues(template: template, assignments: [])
        }
        // Given explicitly, the computed default is not used.
        let values = try TemplateValues(template: template, assignments: [.init(name: "copies", value: "3")])
        #expect(values.values["copies"] == .int(3))
    }
}
