import Foundation
import Testing
import FerryJobs

/// Hostile YAML is refused by a limit, quickly and in bounded memory.
@Suite struct YAMLSafetyTests {
    @Test func billionLaughsIsRefused() throws {
        var lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for i in 1...9 {
            lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]")
        }
        let d = try JobFixture.diagnostics(["apps/server/app.yaml": "workflow: fedavg\nrounds: 2\n" + lines.joined(separator: "\n") + "\n"])
        #expect(d.count == 1)
        let bomb = try #require(d.first)
        #expect(bomb.file.hasSuffix("apps/server/app.yaml"))
        #expect(bomb.message.contains("more than 100000 nodes"))
        // Refused while scanning the line whose aliases pass the limit (10^5 nodes: a4 or a5).
        #expect((6...8).contains(bomb.line), "\(bomb)")
    }

    @Test func deepNestingIsRefusedAtTheLevelPastTheLimit() throws {
        let deep = "nest: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n"
        let job = try JobFixture(["job.yaml": "name: t\nmin_clients: 2\n" + deep])
        defer { job.remove() }
        // The top mapping is level 1, so the 64th bracket (column 6 + 64) opens level 65.
        expectDiagnostic(job.diagnostics(), "job.yaml", 3, 70, "nesting deeper than 64 levels")
        expectDiagnostic(job.diagnostics(limits: YAMLLimits(maxDepth: 8)), "job.yaml", 3, 14, "nesting deeper than 8 levels")
    }

    @Test func oversizedFileIsRefusedBeforeReading() throws {
        let filler = "# " + String(repeating: "x", count: 1000) + "\n"
        let job = try JobFixture(["apps/client/app.yaml": "executor:\n  command: [train]\n" + String(repeating: filler, count: 1100)])
        defer { job.remove() }
        expectDiagnostic(job.diagnostics(), "apps/client/app.yaml", 1, 1, "over the limit of 1048576 bytes")
        // The same file is fine under a raised limit: only its size was wrong.
        _ = try JobFolder.load(directory: job.directory, limits: YAMLLimits(maxFileBytes: 4 << 20))
    }

    @Test func longScalarAndSecondDocumentAreRefused() throws {
        let d = try JobFixture.diagnostics([
            "job.yaml": "name: t\nmin_clients: 2\ndescription: " + String(repeating: "y", count: 70_000) + "\n",
            "apps/server/app.yaml": "workflow: fedavg\nrounds: 2\n---\nworkflow: cyclic\n",
        ])
        expectDiagnostic(d, "job.yaml", 3, 14, "exceeds the limit of 65536 bytes")
        expectDiagnostic(d, "apps/server/app.yaml", 3, 1, "a second YAML document starts here")
    }

    @Test func syntaxErrorsCarryTheirPosition() throws {
        let d = try JobFixture.diagnostics(["apps/server/app.yaml": "workflow: fedavg\nrounds: 2\norder: fixed: x\n"])
        #expect(d.count == 1)
        #expect(d.first?.message.hasPrefix("invalid YAML") == true)
        #expect(d.first?.line == 3, "\(d)")
    }

    @Test func unclosedBracketIsReportedWhereItOpens() throws {
        let d = try JobFixture.diagnostics([
            "apps/client/app.yaml": "executor:\n  command: [python3, train.py\n  timeout: 10m\nfilters:\n  to_server: nf4\n",
            "apps/server/app.yaml": "workflow: fedavg\nrounds: [2\n",
        ])
        #expect(d.count == 2, "\(d)")
        expectDiagnostic(d, "apps/client/app.yaml", 2, 12, "this '[' is never closed", hint: "end the list with ']'")
        expectDiagnostic(d, "apps/server/app.yaml", 2, 9, "this '[' is never closed")
        // The innermost unclosed bracket, past closed ones, quoted brackets and comments.
        let nested = try JobFixture.diagnostics([
            "apps/client/app.yaml": "executor:\n  command: [a, \"]\", [b, c], # ]\n    [d, e\n  timeout: 10m\n",
        ])
        expectDiagnostic(nested, "apps/client/app.yaml", 3, 5, "this '[' is never closed")
    }

    @Test func unclosedBraceAndQuoteAreReportedWhereTheyOpen() throws {
        let d = try JobFixture.diagnostics([
            "apps/client/app.yaml": "executor:\n  command: [train]\n  env: {A: \"1\", B: it's\ntransfer:\n  mode: file\n",
            "apps/server/app.yaml": "workflow: fedavg\nrounds: 2\ninitial_model: 'models/a.safetensors\nseed: 1\n",
            "job.yaml": "name: \"t\nmin_clients: 2\n",
        ])
        expectDiagnostic(d, "apps/client/app.yaml", 3, 8, "this '{' is never closed", hint: "end the mapping with '}'")
        expectDiagnostic(d, "apps/server/app.yaml", 3, 16, "this quote is never closed", hint: "end the quoted text with '")
        expectDiagnostic(d, "job.yaml", 1, 7, "this quote is never closed", hint: "end the quoted text with \"")
    }

    @Test func closedBracketWithAnotherProblemKeepsLibyamlsPosition() throws {
        let d = try JobFixture.diagnostics(["apps/client/app.yaml": "executor:\n  command: [\"a\" b, c]\n"])
        #expect(d.count == 1, "\(d)")
        expectDiagnostic(d, "apps/client/app.yaml", 2, 17, "invalid YAML: did not find expected ',' or ']'")
    }
}
