import FerryJobs
import FerryQuant
import FerryTransfer
import Foundation
import Testing

/// Issue 17: a client app's privacy filters (`filters.to_server` as a list), their validation, and a
/// site's policy requiring them (`filters.privacy`).
@Suite struct PrivacyFilterConfigTests {
    static let server = "workflow: fedavg\nrounds: 2\ninitial_model: models/initial.safetensors\n"
    static let filtered = """
    executor:
      command: [train]
    filters:
      to_server:
        - exclude: ["lm_head.*", "*.bias"]
        - dp-gaussian: {clip: 1.5, noise_multiplier: 1.1}
        - percentile: {percentile: 90, gamma: 0.01}
        - quantize: nf4

    """

    private func load(client: String, server: String = Self.server) throws -> ClientAppConfig {
        let job = try JobFixture(["apps/client/app.yaml": client, "apps/server/app.yaml": server, "models/initial.safetensors": "x"])
        defer { job.remove() }
        return try #require(try JobFolder.load(directory: job.directory).clientApps["client"])
    }

    private func violations(_ policy: String, client: String) throws -> [String] {
        let job = try JobFixture(["apps/client/app.yaml": client, "apps/server/app.yaml": Self.server,
                                  "models/initial.safetensors": "x", "policy.yaml": policy])
        defer { job.remove() }
        let folder = try JobFolder.load(directory: job.directory)
        let app = try #require(folder.clientApps["client"])
        return try SitePolicy.load(workspace: job.directory).violations(of: app, rounds: 2, appDirectory: nil).map(\.description)
    }

    @Test func aListOfFiltersKeepsItsOrderAndQuantizesLast() throws {
        let config = try load(client: Self.filtered)
        #expect(config.filters.toServer == .nf4)
        #expect(config.filters.privacy == [
            .exclude(["lm_head.*", "*.bias"]),
            .dpGaussian(DPGaussianSettings(clip: 1.5, noiseMultiplier: 1.1, seed: nil)),
            .percentile(PercentileSettings(percentile: 90, gamma: 0.01)),
        ])
        // The word alone still means quantization only.
        let plain = try load(client: "executor:\n  command: [train]\nfilters:\n  to_server: blockwise8\n")
        #expect(plain.filters.toServer == .blockwise8)
        #expect(plain.filters.privacy.isEmpty)
        let seeded = try load(client: "executor:\n  command: [train]\nfilters:\n  to_server:\n    - dp-gaussian: {clip: 1, noise_multiplier: 0.5, seed: 42}\n")
        #expect(seeded.filters.toServer == nil)
        #expect(seeded.filters.privacy == [.dpGaussian(DPGaussianSettings(clip: 1, noiseMultiplier: 0.5, seed: 42))])
    }

    @Test func badFilterListsAreReportedWithTheirLines() throws {
        let found = try JobFixture.diagnostics([
            "apps/server/app.yaml": Self.server, "models/initial.safetensors": "x",
            "apps/client/app.yaml": """
            executor:
              command: [train]
            filters:
              to_server:
                - quantize: nf4
                - dp-gaussian: {clip: 0, noise_multiplier: 1}
                - percentil: {percentile: 90, gamma: 0.1}
                - percentile: {percentile: 120, gamma: 0.1}
                - exclude: []
            """,
        ])
        expectDiagnostic(found, "apps/client/app.yaml", 6, 7, "'quantize' must be the last entry")
        expectDiagnostic(found, "apps/client/app.yaml", 6, 27, "'filters.to_server[1].dp-gaussian.clip' is 0.0")
        expectDiagnostic(found, "apps/client/app.yaml", 7, 7, "unknown key 'percentil'", hint: "percentile")
        expectDiagnostic(found, "apps/client/app.yaml", 8, 32, "'filters.to_server[3].percentile.percentile' is 120.0")
        expectDiagnostic(found, "apps/client/app.yaml", 9, 16, "lists no pattern")
    }

    @Test func filtersThatNeedTheGlobalModelNeedAnInitialModel() throws {
        let found = try JobFixture.diagnostics([
            "apps/server/app.yaml": "workflow: fedavg\nrounds: 2\n",
            "apps/client/app.yaml": "executor:\n  command: [train]\nfilters:\n  to_server:\n    - percentile: {percentile: 50, gamma: 1}\n",
        ])
        expectDiagnostic(found, "apps/client/app.yaml", 4, 1, "the filter percentile measures each update from the global model",
                         hint: "initial_model")
        let cyclic = try JobFixture.diagnostics([
            "apps/server/app.yaml": "workflow: cyclic\nrounds: 2\n",
            "apps/client/app.yaml": "executor:\n  command: [train]\nfilters:\n  to_server:\n    - exclude: [\"b\"]\n",
        ])
        expectDiagnostic(cyclic, "apps/client/app.yaml", 4, 1, "`workflow: cyclic` would pass on to the next site incomplete")
        let scaffold = try JobFixture.diagnostics([
            "apps/server/app.yaml": "workflow: scaffold\nrounds: 2\ninitial_model: models/initial.safetensors\n",
            "apps/client/app.yaml": "executor:\n  command: [train]\nfilters:\n  to_server:\n    - exclude: [\"b\"]\n",
            "models/initial.safetensors": "not read by the checks",
        ])
        expectDiagnostic(scaffold, "apps/client/app.yaml", 4, 1, "`workflow: scaffold` sends a control variate change with each model")
    }

    @Test func aPolicyRequiringFiltersRefusesJobsWithoutThem() throws {
        let policy = """
        approve: auto
        filters:
          privacy:
            exclude: ["lm_head.*"]
            dp-gaussian: {min_noise_multiplier: 1.0, max_clip: 2}
        """
        let none = try violations(policy, client: "executor:\n  command: [train]\n")
        #expect(none == [
            "policy.yaml:3: filters.privacy: the job does not exclude 'lm_head.*' (its exclude patterns: none)",
            "policy.yaml:3: filters.privacy: the job sends results without dp-gaussian; this site requires it with noise_multiplier ≥ 1.0, clip ≤ 2.0",
        ])
        #expect(try violations(policy, client: Self.filtered).isEmpty)
        let weak = try violations(policy, client: """
        executor:
          command: [train]
        filters:
          to_server:
            - exclude: ["lm_head.*"]
            - dp-gaussian: {clip: 3, noise_multiplier: 0.5, seed: 7}

        """)
        #expect(weak == [
            "policy.yaml:3: filters.privacy: the job's dp-gaussian has noise_multiplier 0.5; this site requires at least 1.0",
            "policy.yaml:3: filters.privacy: the job's dp-gaussian has clip 3.0; this site allows at most 2.0",
            "policy.yaml:3: filters.privacy: the job's dp-gaussian fixes its seed, so whoever knows the job can regenerate and remove the noise; remove `seed` (the site then draws its own)",
        ])
        let percentile = try violations("filters:\n  privacy:\n    percentile: {min_percentile: 95}\n", client: Self.filtered)
        #expect(percentile == [
            "policy.yaml:2: filters.privacy: the job's percentile filter shares entries above percentile 90.0; this site requires at least 95.0",
        ])
    }

    @Test func aMalformedPrivacyRequirementIsReported() throws {
        let job = try JobFixture(["policy.yaml": "filters:\n  privacy:\n    dp-gausian: {}\n"])
        defer { job.remove() }
        #expect(throws: JobValidationFailure.self) { try SitePolicy.load(workspace: job.directory) }
        do {
            _ = try SitePolicy.load(workspace: job.directory)
        } catch {
            #expect(error.diagnostics.contains { $0.line == 3 && $0.message.contains("unknown key 'dp-gausian'") && $0.hint.contains("dp-gaussian") })
        }
    }
}
