import FerryJobs
import FerryQuant
import Foundation
import Testing

/// policy.yaml: every rule refusing a job with the rule's line and reason, the precision order of
/// result filters, and a malformed file reported by line, column and field.
@Suite struct SitePolicyTests {
    /// The violations of the fixture job (its client app replaced by `client`, its rounds by `rounds`)
    /// under `policy`; `files` go into the client app folder.
    private func violations(_ policy: String, client: String? = nil, rounds: Int = 2,
                            files: [String: String] = [:]) throws -> [PolicyViolation] {
        var overrides: [String: String?] = ["policy.yaml": policy]
        if let client { overrides["apps/client/app.yaml"] = client }
        overrides["apps/server/app.yaml"] = "workflow: fedavg\nrounds: \(rounds)\n"
        for (path, text) in files { overrides["apps/client/" + path] = text }
        let job = try JobFixture(overrides)
        defer { job.remove() }
        let folder = try JobFolder.load(directory: job.directory)
        let app = try #require(folder.clientApps["client"])
        let loaded = try SitePolicy.load(workspace: job.directory)
        return loaded.violations(of: app, rounds: folder.serverApp.rounds, appDirectory: folder.appDirectory("client"))
    }

    private func diagnostics(_ policy: String) throws -> [Diagnostic] {
        let job = try JobFixture(["policy.yaml": policy])
        defer { job.remove() }
        do {
            _ = try SitePolicy.load(workspace: job.directory)
            Issue.record("the policy loaded")
            return []
        } catch {
            return error.diagnostics
        }
    }

    private func expectOne(_ found: [Diagnostic], _ line: Int, _ column: Int, _ message: String, hint: String = "",
                           sourceLocation: SourceLocation = #_sourceLocation) {
        let match = found.contains {
            $0.file == "policy.yaml" && $0.line == line && $0.column == column && $0.message.contains(message)
                && (hint.isEmpty || $0.hint.contains(hint))
        }
        #expect(match, "no policy.yaml:\(line):\(column) '\(message)' among:\n\(found.map(\.description).joined(separator: "\n"))",
                sourceLocation: sourceLocation)
    }

    @Test func withoutPolicyEveryJobPasses() throws {
        let job = try JobFixture()
        defer { job.remove() }
        let policy = try SitePolicy.load(workspace: job.directory)
        #expect(policy == .open)
        #expect(policy.approve == .auto && policy.logs == .all)
        let folder = try JobFolder.load(directory: job.directory)
        #expect(policy.violations(of: try #require(folder.clientApps["client"]), rounds: 100_000, appDirectory: nil).isEmpty)
    }

    @Test func aCommandOutsideTheAllowedPatternsIsRefusedWithItsLine() throws {
        let found = try violations("approve: auto\ncommands:\n  - \"/opt/fl/bin/*\"\n")
        #expect(found.map(\.description) == [
            "policy.yaml:2: commands: 'train {input_model} {output_model} {result}' does not match any allowed pattern ['/opt/fl/bin/*']",
        ])
    }

    @Test func programPatternsAllowAnyArgumentsAndWholeCommandPatternsMatchEveryWord() throws {
        #expect(try violations("commands: [train]\n").isEmpty)
        #expect(try violations("commands: [\"train {input_model} *\"]\n").isEmpty)
        let strict = try violations("commands: [\"train --safe *\"]\n")
        #expect(strict.map(\.rule) == ["commands"])
        let escape = """
        executor:
          command: ["/opt/fl/bin/../../../bin/sh", "-c", "id"]
        """
        let refused = try violations("commands: [\"/opt/fl/bin/*\"]\n", client: escape)
        #expect(refused.map(\.rule) == ["commands"], "the .. components are resolved before matching")
    }

    @Test func aJobShippingTheAllowedProgramItselfIsRefused() throws {
        let found = try violations("commands: [train]\n", files: ["train": "#!/bin/sh\n"])
        #expect(found.map(\.description) == [
            "policy.yaml:1: commands: the job ships its own 'train' in its app folder, which would run instead of this site's 'train'",
        ])
    }

    @Test func anEnvironmentVariableOutsideTheAllowedOnesIsRefused() throws {
        let client = """
        executor:
          command: [train]
          env:
            FL_LR: "0.1"
            LD_PRELOAD: /tmp/evil.so
        """
        let found = try violations("\nenv:\n  - \"FL_*\"\n  - SEED\n", client: client)
        #expect(found.map(\.description) == [
            "policy.yaml:2: env: the job sets 'LD_PRELOAD', not among the allowed variables ['FL_*', 'SEED']",
        ])
        #expect(try violations("env: [\"FL_*\", \"LD_*\"]\n", client: client).isEmpty)
        #expect(try violations("env: []\n", client: client).map(\.rule) == ["env"])
    }

    @Test func resultsMoreThanTheRequiredPrecisionAreRefused() throws {
        let unfiltered = try violations("filters:\n  to_server: fp16\n")
        #expect(unfiltered.map(\.description) == [
            "policy.yaml:2: filters.to_server: the job sends results unfiltered (full precision); this site sends at most 16 bits per value (filters.to_server: one of fp16, bf16, blockwise8, fp4, nf4, fp4-dq, nf4-dq)",
        ])
        func client(_ filter: String) -> String { "executor:\n  command: [train]\nfilters:\n  to_server: \(filter)\n" }
        for allowed in ["fp16", "bf16", "blockwise8", "fp4", "nf4"] {
            #expect(try violations("filters:\n  to_server: fp16\n", client: client(allowed)).isEmpty, "\(allowed)")
        }
        let coarse = try violations("filters: {to_server: blockwise8}\n", client: client("bf16"))
        #expect(coarse.map(\.description) == [
            "policy.yaml:1: filters.to_server: the job sends results with the filter bf16 (16 bits per value); this site sends at most 8 bits per value (filters.to_server: one of blockwise8, fp4, nf4, fp4-dq, nf4-dq)",
        ])
    }

    @Test func precisionOrderIsBitsPerValue() {
        #expect(SitePolicy.bitsPerValue(nil) == 32)
        #expect(QuantFormat.allCases.map { SitePolicy.bitsPerValue($0) } == [16, 16, 8, 4, 4, 4, 4])
    }

    @Test func moreRoundsThanAllowedAreRefused() throws {
        let found = try violations("max_rounds: 5\n", rounds: 6)
        #expect(found.map(\.description) == ["policy.yaml:1: max_rounds: the job runs 6 rounds; this site allows at most 5"])
        #expect(try violations("max_rounds: 5\n", rounds: 5).isEmpty)
    }

    @Test func everyBrokenRuleIsReportedInFileOrder() throws {
        let found = try violations("commands: [\"/opt/*\"]\nfilters:\n  to_server: nf4\nmax_rounds: 1\n")
        #expect(found.map(\.rule) == ["commands", "filters.to_server", "max_rounds"])
        #expect(found.map(\.line) == [1, 3, 4])
    }

    @Test func logsAndApprovalAreRead() throws {
        let job = try JobFixture(["policy.yaml": "approve: manual\nlogs: tail\nlog_tail_lines: 20\n"])
        defer { job.remove() }
        let policy = try SitePolicy.load(workspace: job.directory)
        #expect(policy.approve == .manual && policy.logs == .tail && policy.logTailLines == 20)
    }

    @Test func aMalformedPolicyIsReportedByLineColumnAndField() throws {
        let found = try diagnostics("""
        approve: maybe
        comands: ["/opt/*"]
        env: LD_PRELOAD
        filters:
          to_server: fp8
          privacy: dp
        max_rounds: lots
        log_tail_lines: 5
        """)
        expectOne(found, 1, 10, "'approve' must be one of auto, manual, found 'maybe'")
        expectOne(found, 2, 1, "unknown key 'comands'", hint: "did you mean 'commands'?")
        expectOne(found, 3, 6, "'env' must be a list of patterns")
        expectOne(found, 5, 14, "'filters.to_server' must be one of fp16, bf16, blockwise8, fp4, nf4, fp4-dq, nf4-dq, found 'fp8'")
        expectOne(found, 6, 12, "'filters.privacy' must be a mapping of keys to values, found 'dp'")
        expectOne(found, 7, 13, "'max_rounds' must be a whole number")
        expectOne(found, 8, 1, "'log_tail_lines' applies only to `logs: tail`")
        #expect(found.count == 7)
    }

    @Test func invalidYAMLAndBadPatternsAreReported() throws {
        expectOne(try diagnostics("commands: [\"/opt/*\"\n"), 1, 11, "this '[' is never closed")
        expectOne(try diagnostics("env: [\"LD PRELOAD\"]\n"), 1, 7, "'LD PRELOAD' in 'env' is not a variable name")
        expectOne(try diagnostics("commands:\n"), 1, 1, "'commands' is empty", hint: "`commands: []` to allow none")
    }
}
