import FerryJobs
import Foundation
import Testing
@testable import FerryTemplates

@Suite struct ManifestTests {
    private func diagnostics(_ manifest: String) throws -> [Diagnostic] {
        let root = try TemplateFixtures.temporaryFolder()
        defer { TemplateFixtures.remove(root) }
        try TemplateFixtures.write(TemplateFixtures.miniTemplateFiles(manifest: manifest), under: root + "/mini")
        do {
            _ = try JobTemplate.load(directory: root + "/mini")
            return []
        } catch {
            guard case .invalidTemplate(_, let diagnostics) = error else { return [] }
            return diagnostics
        }
    }

    @Test func variablesKeepTheirDeclaredOrderAndTypes() throws {
        let template = try TemplateFixtures.builtIn("fedavg")
        #expect(template.variables.prefix(3).map(\.name) == ["clients", "min_clients", "rounds"])
        #expect(template.variable(named: "rounds")?.type == .int(min: 1, max: 100_000))
        #expect(template.variable(named: "to_clients")?.hasComputedDefault == true)
    }

    @Test func unknownKeysAndTypesAreReportedWithPosition() throws {
        let found = try diagnostics("""
        name: mini
        description: d
        variables:
          rounds:
            type: integer
            default: 2
            help: h
          chunk:
            type: size
            defualt: 8MiB
            help: h
        """)
        let typeError = try #require(found.first { $0.message.contains("unknown type 'integer'") })
        #expect(typeError.line == 5 && typeError.column == 11)
        #expect(typeError.hint.contains("'int'"))
        let keyError = try #require(found.first { $0.message.contains("unknown key 'defualt'") })
        #expect(keyError.line == 10)
        #expect(keyError.hint.contains("'default'"))
        #expect(found.contains { $0.message.contains("missing 'default'") })
    }

    @Test func badDefaultsAndNamesAreReported() throws {
        let found = try diagnostics("""
        name: other
        description: d
        variables:
          Rounds:
            type: int
            default: 2
            help: h
          mode:
            type: enum
            choices: [a, b]
            default: c
            help: h
          job_name:
            type: string
            default: x
            help: h
        """)
        #expect(found.contains { $0.message.contains("differs from the template's folder name") })
        #expect(found.contains { $0.message.contains("invalid variable name 'Rounds'") })
        #expect(found.contains { $0.message.contains("the default 'c' of 'mode'") && $0.line == 11 })
        #expect(found.contains { $0.message.contains("'job_name' is provided by ferry") })
    }

    @Test func aliasBombInTemplateYAMLIsRefused() throws {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...9 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        let found = try diagnostics("name: mini\ndescription: d\n" + lines.joined(separator: "\n") + "\n")
        #expect(found.contains { $0.message.contains("alias expansion bomb") })
    }
}
