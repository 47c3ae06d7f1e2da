import Foundation
import Testing
@testable import FerryWorkspace

@Suite struct ProjectFileTests {
    func diagnostics(_ yaml: String) -> [ProjectDiagnostic] {
        do {
            _ = try ProjectFile.parse(yaml: yaml, file: "p.yaml", baseDirectory: "/base")
            return []
        } catch {
            if case let .invalidProject(list) = error { return list }
            return [ProjectDiagnostic(file: "?", line: -1, column: -1, message: "\(error)")]
        }
    }

    @Test func parsesSitesWithWorkspacesAndPoll() throws {
        let p = try ProjectFile.parse(yaml: """
            name: demo
            sites:
              - {name: site-1, role: client}
              - {name: server, role: server}
              - {name: site-2, role: client, workspace: /mnt/share/site-2, inbox: inboxes/s2}
            poll: 1s
            """, file: "p.yaml", baseDirectory: "/base")
        #expect(p.name == "demo")
        #expect(p.sites.map(\.name) == ["server", "site-1", "site-2"])
        #expect(p.sites[2].workspace == "/mnt/share/site-2")
        #expect(p.sites[2].inbox == "inboxes/s2")
        #expect(p.poll == .seconds(1))
        #expect(p.baseDirectory == "/base")
    }

    @Test func clientsShorthand() throws {
        let p = try ProjectFile.parse(yaml: "name: demo\nclients: 3\n", file: "p.yaml", baseDirectory: "/")
        #expect(p.sites.map(\.name) == ["server", "site-1", "site-2", "site-3"])
        #expect(p.sites.map(\.role) == [.server, .client, .client, .client])
    }

    @Test func unknownKeyHasLineColumnAndSuggestion() {
        let d = diagnostics("name: demo\nclients: 2\npoll_interval: 1s\n")
        #expect(d.count == 1)
        #expect(d.first?.line == 3)
        #expect(d.first?.column == 1)
        #expect(d.first?.message.contains("poll_interval") == true)
        let d2 = diagnostics("name: demo\nclient: 2\n")
        #expect(d2.contains { $0.line == 2 && $0.hint == "did you mean 'clients'?" })
    }

    @Test func reportsEveryProblemWithPositions() {
        let d = diagnostics("""
            name: Demo!
            sites:
              - {name: server, role: boss}
              - {name: site-1, role: client}
              - {name: site-1, role: client}
            poll: soon
            """)
        #expect(d.contains { $0.line == 1 && $0.column == 7 && $0.message.contains("invalid project name") })
        #expect(d.contains { $0.line == 3 && $0.message.contains("invalid role 'boss'") })
        #expect(d.contains { $0.line == 5 && $0.message.contains("duplicate site name 'site-1'") })
        #expect(d.contains { $0.line == 6 && $0.column == 7 && $0.message.contains("poll") })
        #expect(d.count == 4)
        #expect(d[0].description.hasPrefix("p.yaml:1:7: error: "))
    }

    @Test func serverRules() {
        #expect(diagnostics("name: d\nsites:\n  - {name: site-1, role: client}\n").first?.message == "no site has role 'server'")
        #expect(diagnostics("name: d\nsites:\n  - {name: server, role: server}\n").first?.message == "no site has role 'client'")
        #expect(diagnostics("name: d\nsites:\n  - {name: hub, role: server}\n  - {name: a, role: client}\n")
            .first?.message.contains("named 'hub'") == true)
        #expect(diagnostics("name: d\nclients: 2\nsites: []\n").first?.message.contains("cannot both") == true)
        #expect(diagnostics("name: d\nclients: 0\n").first?.line == 2)
        #expect(diagnostics("name: d\n").first?.message.contains("missing 'sites'") == true)
        #expect(diagnostics("clients: 1\n").first?.message.contains("missing required key 'name'") == true)
    }

    @Test func yamlSyntaxErrorHasPosition() {
        let d = diagnostics("name: demo\nsites: [\n  {name: server\n")
        #expect(d.count == 1)
        #expect(d.first?.message.hasPrefix("YAML syntax error") == true)
        #expect((d.first?.line ?? 0) >= 2)
    }

    @Test func missingFileIsAnError() throws {
        #expect(throws: WorkspaceError.self) { try ProjectFile.load(path: "/nonexistent/p.yaml") }
    }
}
