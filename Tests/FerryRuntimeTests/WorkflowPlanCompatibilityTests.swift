@testable import FerryRuntime
import Foundation
import Testing

/// Issue 17: `runtime/workflow.json` of a job started by an earlier version (workflow as a string, no
/// aggregation fields) decodes into the typed plan and resumes with the same workflow.
@Suite struct WorkflowPlanCompatibilityTests {
    static func plan(workflow: String) -> String {
        """
        {"name": "old", "workflow": "\(workflow)", "rounds": 3, "roundTimeout": 60, "minClients": 2,
         "order": "shuffle", "seed": 7,
         "toClients": {"mode": "container", "chunkSize": 8388608, "window": 4, "quantize": "nf4"},
         "siteApps": {"site-1": "client", "site-2": "client"}, "sites": ["site-1", "site-2"]}
        """
    }

    @Test func aPlanOfAnEarlierVersionDecodesTyped() throws {
        let cyclic = try JSONDecoder().decode(JobPlan.self, from: Data(Self.plan(workflow: "cyclic").utf8))
        #expect(cyclic.workflow == .cyclic)
        #expect(cyclic.aggregation == nil && cyclic.serverOptimizer == nil)
        #expect(cyclic.toClients.quantize == .nf4)
        #expect(ServerWorkflows.make(cyclic) is CyclicWorkflow)
        let fedavg = try JSONDecoder().decode(JobPlan.self, from: Data(Self.plan(workflow: "fedavg").utf8))
        #expect(ServerWorkflows.make(fedavg) is FedAvgWorkflow)
        // The word is written back unchanged, so an older ferry reads it too.
        let encoded = String(decoding: try JSONEncoder().encode(fedavg), as: UTF8.self)
        #expect(encoded.contains("\"workflow\":\"fedavg\""))
    }

    @Test func anUnknownWorkflowOrFormatIsAnErrorNotAFallback() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(JobPlan.self, from: Data(Self.plan(workflow: "fedsomething").utf8))
        }
        let badFormat = Self.plan(workflow: "fedavg").replacingOccurrences(of: "\"nf4\"", with: "\"nf5\"")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(JobPlan.self, from: Data(badFormat.utf8)) }
    }
}
