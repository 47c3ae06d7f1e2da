import Foundation
import Testing
import FerryJobs

/// `round_config:` of a server app: constants and per-round schedules, and its errors.
@Suite struct RoundConfigTests {
    private func serverApp(_ roundConfig: String, rounds: Int = 5) throws -> ServerAppConfig {
        let job = try JobFixture(["apps/server/app.yaml": "workflow: fedavg\nrounds: \(rounds)\nround_config:\n" + roundConfig])
        defer { job.remove() }
        return try JobFolder.load(directory: job.directory).serverApp
    }

    @Test func constantsKeepTheirJSONTypes() throws {
        let config = try #require(try serverApp("""
          epochs: 3
          lr: 1e-3
          name: adamw
          quoted: "12"
          warmup: true
          nothing: null
          layers: [1, 2.5, x]
          nested: {a: 1, b: [true]}
        """).roundConfig)
        #expect(config.json(round: 2, rounds: 5)
            == #"{"epochs":3,"layers":[1,2.5,"x"],"lr":0.001,"name":"adamw","nested":{"a":1,"b":[true]},"nothing":null,"quoted":"12","warmup":true}"#)
    }

    @Test func schedulesGiveEachRoundItsValue() throws {
        let config = try #require(try serverApp("""
          lr:
            per_round: [0.5, 0.25, 0.125]
          linear_lr:
            linear: [1.0, 0.2]
          cosine_lr:
            cosine: [1.0, 0.0]
        """).roundConfig)
        let rounds = (1...5).map { config.values(round: $0, rounds: 5) }
        #expect(rounds.map { $0["lr"]?.number } == [0.5, 0.25, 0.125, 0.125, 0.125])
        let linear = rounds.compactMap { $0["linear_lr"]?.number }
        #expect(zip(linear, [1.0, 0.8, 0.6, 0.4, 0.2]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(linear)")
        let cosine = rounds.compactMap { $0["cosine_lr"]?.number }
        #expect(zip(cosine, [1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0.0]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(cosine)")
        // One round: the start value.
        #expect(config.values(round: 1, rounds: 1)["linear_lr"]?.number == 1.0)
    }

    @Test func aMappingThatIsNotASchedulePassesAsIs() throws {
        let config = try #require(try serverApp("  optimizer: {linear: 1, momentum: 0.9}\n").roundConfig)
        #expect(config.json(round: 1, rounds: 5) == #"{"optimizer":{"linear":1,"momentum":0.9}}"#)
    }

    @Test func badSchedulesAndValuesAreReportedAtTheValue() throws {
        let d = try JobFixture.diagnostics(["apps/server/app.yaml": """
        workflow: fedavg
        rounds: 3
        round_config:
          a:
            linear: [1.0]
          b:
            per_round: 0.1
          c: .inf
          d:
            cosine: [x, 1]
        """])
        expectDiagnostic(d, "apps/server/app.yaml", 5, 13, "'round_config.a.linear' must be two numbers [from, to]")
        expectDiagnostic(d, "apps/server/app.yaml", 7, 16, "'round_config.b.per_round' must be a list", hint: "per_round: [0.1, 0.05, 0.01]")
        expectDiagnostic(d, "apps/server/app.yaml", 8, 6, "'round_config.c' is .inf, not a finite number")
        expectDiagnostic(d, "apps/server/app.yaml", 10, 13, "'round_config.d.cosine' must be two numbers")
    }

    @Test func anOversizedConfigIsRefused() throws {
        let big = String(repeating: "x", count: RoundConfig.maxBytes)
        let d = try JobFixture.diagnostics(["apps/server/app.yaml": "workflow: fedavg\nrounds: 3\nround_config:\n  blob: \(big)\n"])
        #expect(d.contains { $0.message.contains("round_config is") && $0.message.contains("more than 65536") }, "\(d)")
    }

    @Test func roundConfigIsAServerKey() throws {
        let d = try JobFixture.diagnostics(["apps/client/app.yaml": "executor:\n  command: [train]\nround_config: {a: 1}\n"])
        expectDiagnostic(d, "apps/client/app.yaml", 3, 1, "unknown key 'round_config'")
    }
}
