import Testing
@testable import FerryJobs

// Placeholder: replaced by the module's real tests.
@Test func FerryJobsModuleLinks() { _ = FerryJobsModule.self }
